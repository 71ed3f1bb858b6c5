/**
 * mailto List-Unsubscribe intake (SES inbound or a PowerMTA `type pipe` domain): checks one
 * recipient address `<subscriberUid>.<listUid>.<campaignUid>@<unsubscribe domain>` and the mail's
 * spam/virus verdicts, and says what to do. Pure: the caller brings time, routing and the store.
 *
 * The address alone names a MailWizz subscription, not an email, so even with
 * `policy.unsubscribeScope: everywhere` the action is by ids: list scope now, plus an `everywhere`
 * flag on the Action for an adapter that can look the email up by ids and widen it.
 */
import { type Action, refSubject } from '../act/action.ts';
import type { PolicyConfig } from '../config-schema.ts';
import type { Router } from '../decide/routing.ts';
import type { SubscriberRef } from '../mail-event.ts';
import type { SuppressionRequest } from '../ports.ts';

const UnsubscribeVerdict = {
  accepted: 'accepted',
  spam: 'spam',
  virus: 'virus',
  malformed: 'malformed',
  unknownDomain: 'unknown-domain',
} as const;
type UnsubscribeVerdict = (typeof UnsubscribeVerdict)[keyof typeof UnsubscribeVerdict];

/** RFC 5321 limits: 64 octets of local part, 254 for the whole path. */
const MAX_LOCAL_PART = 64;
const MAX_ADDRESS = 254;
const MAILWIZZ_UID = '[a-z0-9]{13}';
const LOCAL_PART = new RegExp(`^(${MAILWIZZ_UID})\\.(${MAILWIZZ_UID})\\.(${MAILWIZZ_UID})$`);

/** SES verdict statuses (PASS, FAIL, GRAY, PROCESSING_FAILED, DISABLED); absent = not checked (pipe). */
interface MailVerdicts {
  spam?: string | undefined;
  virus?: string | undefined;
}

type AddressCheck =
  | { ok: true; address: string; domain: string; ref: SubscriberRef }
  | { ok: false; verdict: 'malformed' | 'unknown-domain'; reason: string };

/** For reasons and logs: printable ASCII only, bounded, so hostile input cannot forge log lines. */
function printable(value: string, max = 80): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}...` : clean);
}

function parseUnsubscribeAddress(raw: string, domains: readonly string[]): AddressCheck {
  // Length first: never run a pattern over an unbounded string.
  if (raw.length > MAX_ADDRESS + 16)
    return { ok: false, verdict: 'malformed', reason: `address longer than ${MAX_ADDRESS} characters` };
  let value = raw.trim();
  if (value.startsWith('<') && value.endsWith('>')) value = value.slice(1, -1).trim();
  if (value === '') return { ok: false, verdict: 'malformed', reason: 'empty address' };
  if (value.length > MAX_ADDRESS)
    return { ok: false, verdict: 'malformed', reason: `address longer than ${MAX_ADDRESS} characters` };
  const at = value.lastIndexOf('@');
  if (at <= 0 || at === value.length - 1)
    return { ok: false, verdict: 'malformed', reason: `not an email address: ${printable(value)}` };
  const local = value.slice(0, at).toLowerCase();
  const domain = value
    .slice(at + 1)
    .toLowerCase()
    .replace(/\.$/, '');
  if (local.length > MAX_LOCAL_PART)
    return {
      ok: false,
      verdict: 'malformed',
      reason: `local part longer than ${MAX_LOCAL_PART} characters`,
    };
  // Before any comparison: toLowerCase() folds some non-ASCII letters into ASCII (U+212A KELVIN
  // SIGN becomes "k"), which would let a lookalike address pass as a real one.
  if (/[^\x21-\x7e]/.test(value))
    return { ok: false, verdict: 'malformed', reason: `address is not printable ASCII: ${printable(value)}` };
  if (!domains.some((d) => d.toLowerCase() === domain))
    return {
      ok: false,
      verdict: 'unknown-domain',
      reason: `domain ${printable(domain)} is not in unsubscribe.domains`,
    };
  // PowerMTA lower-cases $to unless macro-variables-preserve-case; MailWizz uids are lower-case.
  const m = LOCAL_PART.exec(local);
  if (!m)
    return {
      ok: false,
      verdict: 'malformed',
      reason: `local part ${printable(local)} is not <subscriberUid>.<listUid>.<campaignUid> (13 [a-z0-9] each)`,
    };
  return {
    ok: true,
    address: `${local}@${domain}`,
    domain,
    ref: { providerType: 'mailwizz', subscriberId: m[1]!, listId: m[2]!, campaignId: m[3]! },
  };
}

type VerdictCheck = { ok: true } | { ok: false; verdict: 'spam' | 'virus'; reason: string };

/**
 * Only a definite FAIL refuses the mail: GRAY, PROCESSING_FAILED and DISABLED are not evidence of
 * abuse, and a missed unsubscribe costs more (complaints, the 48-hour rule) than a forged one.
 */
function checkVerdicts(verdicts: MailVerdicts): VerdictCheck {
  if (verdicts.virus?.toUpperCase() === 'FAIL')
    return { ok: false, verdict: 'virus', reason: 'virus verdict FAIL: mail ignored' };
  if (verdicts.spam?.toUpperCase() === 'FAIL')
    return { ok: false, verdict: 'spam', reason: 'spam verdict FAIL: mail ignored' };
  return { ok: true };
}

interface InboundUnsubscribeSettings {
  domains: readonly string[];
  scope: PolicyConfig['unsubscribeScope'];
  router: Router;
}

interface InboundUnsubscribeMail {
  /** The recipients to act on (SES `receipt.recipients`, or PowerMTA `$to`). */
  recipients: readonly string[];
  verdicts: MailVerdicts;
  /** Identity of the mail (SES messageId, Message-ID header): makes the record key stable on retry. */
  mailId: string;
  /** When the mail arrived (ms). */
  receivedAt: number;
}

type InboundUnsubscribeDecision =
  | {
      verdict: 'accepted';
      recipient: string;
      ref: SubscriberRef;
      everywhere: boolean;
      reason: string;
      request: SuppressionRequest;
    }
  | {
      verdict: Exclude<UnsubscribeVerdict, 'accepted'>;
      recipient: string;
      ref?: SubscriberRef | undefined;
      reason: string;
    };

function decideInboundUnsubscribe(
  mail: InboundUnsubscribeMail,
  settings: InboundUnsubscribeSettings,
): InboundUnsubscribeDecision[] {
  const verdicts = checkVerdicts(mail.verdicts);
  return mail.recipients.map((recipient): InboundUnsubscribeDecision => {
    const label = recipient.length > MAX_ADDRESS ? `${recipient.slice(0, 64)}...` : recipient;
    const address = parseUnsubscribeAddress(recipient, settings.domains);
    if (!verdicts.ok) {
      return {
        verdict: verdicts.verdict,
        recipient: address.ok ? address.address : label,
        ref: address.ok ? address.ref : undefined,
        reason: verdicts.reason,
      };
    }
    if (!address.ok) return { verdict: address.verdict, recipient: label, reason: address.reason };
    const everywhere = settings.scope === 'everywhere';
    const reason = everywhere
      ? 'List-Unsubscribe mail: unsubscribe by ids (scope everywhere requested; the address carries no email)'
      : 'List-Unsubscribe mail: unsubscribe from its list';
    const subject = refSubject(address.ref);
    return {
      verdict: 'accepted',
      recipient: address.address,
      ref: address.ref,
      everywhere,
      reason,
      request: {
        subject,
        kind: 'unsubscribe',
        reason,
        recordKey: `unsub:${mail.mailId}:${address.address}`,
        at: mail.receivedAt,
        providers: settings.router.forRef(address.ref, undefined),
      },
    };
  });
}

/** The actions-queue message for an accepted decision, to the providers still pending. */
function inboundUnsubscribeAction(
  decision: Extract<InboundUnsubscribeDecision, { verdict: 'accepted' }>,
  pendingProviders: readonly string[],
): Action {
  return {
    v: 1,
    id: decision.request.subject,
    subject: decision.request.subject,
    target: { type: 'ref', ref: decision.ref },
    kind: 'unsubscribe',
    reason: decision.reason,
    occurredAt: decision.request.at,
    providers: [...pendingProviders],
    ...(decision.everywhere ? { everywhere: true } : {}),
  };
}

export type {
  AddressCheck,
  InboundUnsubscribeDecision,
  InboundUnsubscribeMail,
  InboundUnsubscribeSettings,
  MailVerdicts,
  VerdictCheck,
};
export {
  checkVerdicts,
  decideInboundUnsubscribe,
  inboundUnsubscribeAction,
  parseUnsubscribeAddress,
  printable,
  UnsubscribeVerdict,
};
