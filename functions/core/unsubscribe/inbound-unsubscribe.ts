/**
 * mailto List-Unsubscribe intake (SES inbound or a PowerMTA `type pipe` domain): checks one
 * recipient address `<subscriberUid>.<listUid>.<campaignUid>[.<tag>]@<unsubscribe domain>` (the tag
 * when `unsubscribe.signing` is on: unsubscribe-token.ts) and the mail's SES verdicts, and says what
 * to do. Pure: the caller brings time, routing, the MAC and the store.
 *
 * Nothing here proves the subscription exists, so an accepted unsubscribe is provisional: its
 * suppression and audit entries expire after UNVERIFIED_TTL_MS unless a provider confirms the
 * subscription (run-action.ts); refused mail leaves at most an expiring audit entry
 * (docs/security.md, "SES mail").
 *
 * The address alone names a MailWizz subscription, not an email, so even with
 * `policy.unsubscribeScope: everywhere` the action is by ids: list scope now, plus an `everywhere`
 * flag on the Action for an adapter that can look the email up by ids and widen it.
 */
import { type Action, refSubject } from '../act/action.ts';
import type { PolicyConfig } from '../config-schema.ts';
import type { Router } from '../decide/routing.ts';
import type { SubscriberRef } from '../mail-event.ts';
import type { HmacSha256, SuppressionRequest } from '../ports.ts';
import type { VerdictName } from './unsubscribe-config.ts';
import type { RateLimitSettings } from './unsubscribe-rate-limit.ts';
import { type SigningKey, verifyUnsubscribeToken } from './unsubscribe-token.ts';

const UnsubscribeVerdict = {
  accepted: 'accepted',
  spam: 'spam',
  virus: 'virus',
  spf: 'spf',
  dkim: 'dkim',
  dmarc: 'dmarc',
  malformed: 'malformed',
  unknownDomain: 'unknown-domain',
  unsigned: 'unsigned',
  badSignature: 'bad-signature',
  rateLimited: 'rate-limited',
} as const;
type UnsubscribeVerdict = (typeof UnsubscribeVerdict)[keyof typeof UnsubscribeVerdict];

/** RFC 5321 limits: 64 octets of local part, 254 for the whole path. */
const MAX_LOCAL_PART = 64;
const MAX_ADDRESS = 254;
/**
 * How long a provisional (unconfirmed) unsubscribe and the audit of refused mail are kept: longer
 * than an action can wait in the actions queue and its dead-letter queue (14 days at most).
 */
const UNVERIFIED_TTL_MS = 15 * 86_400_000;

/** SES verdict statuses (PASS, FAIL, GRAY, PROCESSING_FAILED, DISABLED); absent = not checked (pipe). */
type MailVerdicts = Partial<Record<VerdictName, string | undefined>>;

/** Default: only a definite spam or virus FAIL refuses (the reasoning: docs/security.md). */
const DEFAULT_REFUSE_VERDICTS: Readonly<Record<VerdictName, readonly string[]>> = {
  spam: ['FAIL'],
  virus: ['FAIL'],
  spf: [],
  dkim: [],
  dmarc: [],
};

interface SigningSettings {
  keys: readonly SigningKey[];
  hmac: HmacSha256;
}

type AddressCheck =
  | { ok: true; address: string; domain: string; ref: SubscriberRef }
  | { ok: false; verdict: 'malformed' | 'unknown-domain' | 'unsigned' | 'bad-signature'; reason: string };

/** For reasons and logs: printable ASCII only, bounded, so hostile input cannot forge log lines. */
function printable(value: string, max = 80): string {
  const clean = value.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > max ? `${clean.slice(0, max)}...` : clean);
}

function parseUnsubscribeAddress(
  raw: string,
  domains: readonly string[],
  signing?: SigningSettings | undefined,
): AddressCheck {
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
  const token = verifyUnsubscribeToken(local, signing?.keys, signing?.hmac);
  if (!token.ok) {
    const verdict =
      token.problem === 'malformed'
        ? 'malformed'
        : token.problem === 'unsigned'
          ? 'unsigned'
          : 'bad-signature';
    return { ok: false, verdict, reason: `local part ${printable(local)}: ${token.reason}` };
  }
  const { subscriberId, listId, campaignId } = token.ids;
  return {
    ok: true,
    address: `${local}@${domain}`,
    domain,
    ref: { providerType: 'mailwizz', subscriberId, listId, campaignId },
  };
}

type VerdictCheck = { ok: true } | { ok: false; verdict: VerdictName; reason: string };

/**
 * A verdict refuses the mail when its status is listed in `refuse` (default: a definite spam or
 * virus FAIL only). A missed unsubscribe costs more (complaints, the 48-hour rule) than a forged
 * one, and forwarded mail fails SPF (and often DKIM) routinely: docs/security.md.
 */
function checkVerdicts(
  verdicts: MailVerdicts,
  refuse: Readonly<Record<VerdictName, readonly string[]>> = DEFAULT_REFUSE_VERDICTS,
): VerdictCheck {
  for (const name of ['virus', 'spam', 'dmarc', 'dkim', 'spf'] as const) {
    const status = verdicts[name]?.toUpperCase();
    if (status && refuse[name].includes(status))
      return { ok: false, verdict: name, reason: `${name} verdict ${status}: mail ignored` };
  }
  return { ok: true };
}

interface InboundUnsubscribeSettings {
  domains: readonly string[];
  scope: PolicyConfig['unsubscribeScope'];
  router: Router;
  /** Signed addresses required (unsubscribe.signing); absent = not signed. */
  signing?: SigningSettings | undefined;
  /** Verdict statuses that refuse (unsubscribe.refuseVerdicts); absent = DEFAULT_REFUSE_VERDICTS. */
  refuseVerdicts?: Readonly<Record<VerdictName, readonly string[]>> | undefined;
  /** Limits of accepted mail (unsubscribe.rateLimit); absent = none. */
  rateLimit?: RateLimitSettings | undefined;
}

interface InboundUnsubscribeMail {
  /** The recipients to act on (SES `receipt.recipients`, or PowerMTA `$to`). */
  recipients: readonly string[];
  verdicts: MailVerdicts;
  /** Identity of the mail (SES messageId, Message-ID header): makes the record key stable on retry. */
  mailId: string;
  /** When the mail arrived (ms). */
  receivedAt: number;
  /** When it is handled (ms; default receivedAt): expiries count from here. */
  processedAt?: number | undefined;
  /** Envelope sender (SES `mail.source`, the pipe's `--from`): its domain is rate-limited. */
  sender?: string | undefined;
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
  const verdicts = checkVerdicts(mail.verdicts, settings.refuseVerdicts);
  return mail.recipients.map((recipient): InboundUnsubscribeDecision => {
    const label = recipient.length > MAX_ADDRESS ? `${recipient.slice(0, 64)}...` : recipient;
    const address = parseUnsubscribeAddress(recipient, settings.domains, settings.signing);
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
        expiresAt: (mail.processedAt ?? mail.receivedAt) + UNVERIFIED_TTL_MS,
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
    requestedAt: decision.request.at,
    providers: [...pendingProviders],
    ...(decision.everywhere ? { everywhere: true } : {}),
    ...(decision.request.expiresAt === undefined ? {} : { unverifiedUntil: decision.request.expiresAt }),
  };
}

export type {
  AddressCheck,
  InboundUnsubscribeDecision,
  InboundUnsubscribeMail,
  InboundUnsubscribeSettings,
  MailVerdicts,
  SigningSettings,
  VerdictCheck,
};
export {
  checkVerdicts,
  decideInboundUnsubscribe,
  inboundUnsubscribeAction,
  parseUnsubscribeAddress,
  printable,
  UNVERIFIED_TTL_MS,
  UnsubscribeVerdict,
};
