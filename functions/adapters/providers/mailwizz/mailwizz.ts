/**
 * MailWizz provider (API 1.x signed, 2.x/3.x X-API-KEY). Unsubscribe everywhere costs at most two
 * calls whatever the number of lists: one search (to know the lists for the audit and to skip when
 * nothing is active) and one bulk unsubscribe. Optionally reports the bounce on the campaign first.
 */
import { z } from 'zod';
import { providerBaseSchema } from '#core/config-schema.ts';
import { ProviderError } from '#core/errors.ts';
import type { SubscriberRef } from '#core/mail-event.ts';
import {
  type ActionContext,
  type EmailLookup,
  ListOutcome,
  type ListProvider,
  type ListResult,
  type ProviderResult,
  type RestoreRequest,
} from '#core/ports.ts';
import type { CallTally } from '../provider-call-policy.ts';
import type { ProviderDefinition, ProviderDeps } from '../provider-definition.ts';
import { apiBasics } from '../provider-result.ts';
import { createMailwizzApi, type MailwizzApi, type MailwizzSubscription } from './mailwizz-api.ts';
import { ACTIVE_STATUSES, applyHardBounce, type HardBounce } from './mailwizz-bounce-as.ts';
import { restoreSubscriptions } from './mailwizz-restore.ts';

/** MailWizz's default `concurrency` (docs/providers.md). */
const MAILWIZZ_CONCURRENCY = 16;

const mailwizzConfigSchema = providerBaseSchema
  .extend({
    type: z.literal('mailwizz'),
    /** The API app's base URL, e.g. https://mw.example.com/api */
    url: z.url({ protocol: /^https?$/ }),
    /** 2.x/3.x API key; for 1.x the public key. */
    apiKey: z.string().min(1),
    /** 1.x only: the private key that signs requests. */
    privateKey: z.string().min(1).optional(),
    /** Report hard bounces on the campaign named by jobId `mailwizz-<campaign_uid>` (MailWizz then blacklists). */
    reportBounces: z.boolean().default(false),
    /** What a hard bounce does: unsubscribe everywhere, blacklist the subscriptions, or a campaign bounce. */
    bounceAs: z.enum(['unsubscribe', 'blacklist', 'campaign-bounce']).default('unsubscribe'),
    /** `campaign-bounce` without a campaign uid (or what it leaves active): blacklist or unsubscribe. */
    bounceFallback: z.enum(['blacklist', 'unsubscribe']).default('blacklist'),
    /**
     * At most 16 in flight (not the base 4): the MailWizz 1.x/2.x API has no rate limiting, an
     * unsubscribe costs two light requests, and the window starts at 8 and grows to 16 only while
     * answers stay as fast (adaptive-window.ts; docs/providers.md, "Requests in flight").
     */
    concurrency: z.number().int().min(1).max(64).default(MAILWIZZ_CONCURRENCY),
  })
  .strict()
  .refine((c) => !c.reportBounces || c.bounceAs === 'unsubscribe', {
    path: ['reportBounces'],
    message: 'reportBounces goes with bounceAs: unsubscribe (campaign-bounce records the bounce itself)',
  });
type MailwizzConfig = z.infer<typeof mailwizzConfigSchema>;

const CAMPAIGN_JOB_ID = /^mailwizz-([a-z0-9]+)$/;

function campaignFromJobId(jobId: string | undefined): string | undefined {
  return jobId ? CAMPAIGN_JOB_ID.exec(jobId)?.[1] : undefined;
}

function bounceMessage(context: ActionContext): string {
  return context.diagnostic || context.reason || 'BOUNCED BACK';
}

class MailwizzListProvider implements ListProvider {
  readonly id: string;
  readonly type = 'mailwizz';
  readonly #api: MailwizzApi;
  readonly #reportBounces: boolean;
  readonly #config: MailwizzConfig;
  readonly #log: ProviderDeps['log'];

  constructor(config: MailwizzConfig, deps: ProviderDeps) {
    this.id = config.id;
    this.#reportBounces = config.reportBounces;
    this.#config = config;
    this.#log = deps.log;
    this.#api = createMailwizzApi({
      ...apiBasics(config, deps),
      apiKey: config.apiKey,
      privateKey: config.privateKey,
    });
  }

  async unsubscribeEverywhere(email: string, context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const found = await this.#api.searchAllLists(tally, email);
    const byList = new Map<string, MailwizzSubscription>();
    for (const s of found)
      if (!byList.has(s.listUid) || ACTIVE_STATUSES.has(s.status)) byList.set(s.listUid, s);
    const subscriptions = [...byList.values()];
    const active = subscriptions.filter((s) => ACTIVE_STATUSES.has(s.status));
    if (active.length > 0 && this.#bouncesAsBounces(context)) {
      await applyHardBounce(this.#api, tally, this.#hardBounce(email, active, context, false));
    } else if (active.length > 0) {
      const confirmed = active.find((s) => s.status === 'confirmed');
      // Before the unsubscribe: MailWizz blacklists only a subscriber that is still confirmed.
      if (confirmed) await this.#maybeReportBounce(tally, context, confirmed.subscriberUid);
      await this.#api.unsubscribeAllLists(tally, email);
    }
    const lists: ListResult[] = subscriptions.map((s) => ({
      listId: s.listUid,
      ...(s.listName ? { listName: s.listName } : {}),
      outcome: ACTIVE_STATUSES.has(s.status) ? ListOutcome.done : ListOutcome.already,
      // What `undo` puts back (mailwizz-restore.ts).
      ...(ACTIVE_STATUSES.has(s.status) ? { previousStatus: s.status } : {}),
    }));
    return { provider: this.id, lists, calls: tally.calls };
  }

  async unsubscribeFromList(ref: SubscriberRef, context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const result = (outcome: ListOutcome): ProviderResult => ({
      provider: this.id,
      // Only a confirmed subscriber is ever changed here: that is what `undo` puts back.
      lists: [
        { listId: ref.listId, outcome, ...(outcome === 'done' ? { previousStatus: 'confirmed' } : {}) },
      ],
      calls: tally.calls,
    });
    const subscriber = await this.#api.getSubscriber(tally, ref.listId, ref.subscriberId);
    if (!subscriber) return result(ListOutcome.notFound);
    // The per-subscriber endpoint changes only confirmed subscribers; anything else is left as is.
    if (subscriber.status !== 'confirmed') return result(ListOutcome.already);
    if (this.#bouncesAsBounces(context)) {
      const email = subscriber.fields.EMAIL ?? '';
      const active: MailwizzSubscription[] = [
        {
          listUid: ref.listId,
          subscriberUid: ref.subscriberId,
          email,
          status: 'confirmed',
          listName: undefined,
        },
      ];
      const bounce = this.#hardBounce(email, active, context, true);
      await applyHardBounce(this.#api, tally, {
        ...bounce,
        campaignUid: ref.campaignId ?? bounce.campaignUid,
      });
      return result(ListOutcome.done);
    }
    await this.#maybeReportBounce(tally, context, ref.subscriberId, ref.campaignId);
    const outcome = await this.#api.unsubscribe(tally, ref.listId, ref.subscriberId);
    return result(outcome === 'ok' ? ListOutcome.done : ListOutcome.notFound);
  }

  /** `pmta-bounce undo`: each changed subscription back to its previous status (mailwizz-restore.ts). */
  resubscribe(email: string, lists: readonly RestoreRequest[]): Promise<ProviderResult> {
    return restoreSubscriptions(this.#api, this.id, email, lists);
  }

  /** `GET lists/{L}/subscribers/{S}`: one call; undefined when unknown or masked. */
  async findEmail(ref: SubscriberRef): Promise<EmailLookup> {
    const tally: CallTally = { calls: 0 };
    const subscriber = await this.#api.getSubscriber(tally, ref.listId, ref.subscriberId);
    return { email: subscriber?.email, calls: tally.calls };
  }

  async checkCredentials() {
    try {
      const count = await this.#api.countLists({ calls: 0 });
      return { ok: true, detail: `API key accepted; ${count} list${count === 1 ? '' : 's'}` };
    } catch (error) {
      if (error instanceof ProviderError) return { ok: false, detail: error.message };
      throw error;
    }
  }

  #bouncesAsBounces(context: ActionContext): boolean {
    return context.kind === 'bounce' && this.#config.bounceAs !== 'unsubscribe';
  }

  #hardBounce(
    email: string,
    active: readonly MailwizzSubscription[],
    context: ActionContext,
    oneList: boolean,
  ): HardBounce {
    return {
      email,
      active,
      campaignUid: campaignFromJobId(context.jobId),
      message: bounceMessage(context),
      bounceAs: this.#config.bounceAs === 'blacklist' ? 'blacklist' : 'campaign-bounce',
      fallback: this.#config.bounceFallback,
      oneList,
    };
  }

  async #maybeReportBounce(
    tally: CallTally,
    context: ActionContext,
    subscriberUid: string,
    campaignUid?: string,
  ): Promise<void> {
    if (!this.#reportBounces || context.kind !== 'bounce') return;
    const campaign = campaignUid ?? campaignFromJobId(context.jobId);
    if (!campaign) return;
    const report = await this.#api.reportBounce(tally, campaign, subscriberUid, bounceMessage(context));
    if (report === 'skipped') {
      this.#log({
        provider: this.id,
        event: 'call',
        message: 'bounce report skipped (already bounced or unknown)',
      });
    }
  }
}

const mailwizzProvider: ProviderDefinition<MailwizzConfig> = {
  type: 'mailwizz',
  configSchema: mailwizzConfigSchema,
  secretKeys: ['apiKey', 'privateKey'],
  create: (config, deps) => new MailwizzListProvider(config, deps),
};

export type { MailwizzConfig };
export {
  campaignFromJobId,
  MAILWIZZ_CONCURRENCY,
  MailwizzListProvider,
  mailwizzConfigSchema,
  mailwizzProvider,
};
