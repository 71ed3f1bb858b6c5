/**
 * MailWizz `bounceAs` (docs/providers.md "Hard bounces as bounces"): what a hard bounce does to the
 * subscriptions still active. `campaign-bounce` records it on the campaign named by the job id
 * (MailWizz then puts the address in its email blacklist and blacklists the confirmed
 * subscriptions); what that leaves active, or everything when no campaign is known, gets the
 * fallback: `blacklist` (each subscription's status set to blacklisted) or `unsubscribe`.
 */
import type { CallTally } from '../provider-call-policy.ts';
import type { MailwizzApi, MailwizzSubscription } from './mailwizz-api.ts';

type BounceAs = 'unsubscribe' | 'blacklist' | 'campaign-bounce';
type BounceFallback = 'blacklist' | 'unsubscribe';

/** Statuses that still receive (or may receive) mail. */
const ACTIVE_STATUSES = new Set(['confirmed', 'unconfirmed', 'unapproved']);

interface HardBounce {
  email: string;
  /** The subscriptions active before this bounce. */
  active: readonly MailwizzSubscription[];
  campaignUid: string | undefined;
  message: string;
  bounceAs: Exclude<BounceAs, 'unsubscribe'>;
  fallback: BounceFallback;
  /** By subscriber ids: never widen to the address's other lists. */
  oneList: boolean;
}

/** Blacklists one subscription, resending its fields (a missing one is left as not found). */
async function blacklistOne(api: MailwizzApi, tally: CallTally, s: MailwizzSubscription): Promise<void> {
  const record = await api.getSubscriber(tally, s.listUid, s.subscriberUid);
  if (!record || !ACTIVE_STATUSES.has(record.status)) return;
  await api.blacklistSubscriber(tally, s, record.fields);
}

/**
 * Records the bounce on the campaign for a confirmed subscription (MailWizz blacklists only
 * confirmed subscribers). Once recorded, the address is in MailWizz's email blacklist, which it
 * checks before every send (and then blacklists the confirmed rows it meets): nothing else to do.
 */
async function recordOnCampaign(api: MailwizzApi, tally: CallTally, bounce: HardBounce): Promise<boolean> {
  const confirmed = bounce.active.find((s) => s.status === 'confirmed');
  if (bounce.bounceAs !== 'campaign-bounce' || !bounce.campaignUid || !confirmed) return false;
  const report = await api.reportBounce(tally, bounce.campaignUid, confirmed.subscriberUid, bounce.message);
  return report === 'recorded';
}

async function applyHardBounce(api: MailwizzApi, tally: CallTally, bounce: HardBounce): Promise<void> {
  if (await recordOnCampaign(api, tally, bounce)) return;
  const how = bounce.bounceAs === 'blacklist' ? 'blacklist' : bounce.fallback;
  if (how === 'blacklist') {
    for (const s of bounce.active) await blacklistOne(api, tally, s);
    return;
  }
  if (bounce.oneList) {
    for (const s of bounce.active) await api.unsubscribe(tally, s.listUid, s.subscriberUid);
    return;
  }
  await api.unsubscribeAllLists(tally, bounce.email);
}

export type { BounceAs, BounceFallback, HardBounce };
export { ACTIVE_STATUSES, applyHardBounce };
