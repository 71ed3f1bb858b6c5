/**
 * The unsubscribe-mail pipeline shared by the unsub Lambda and `pmta-bounce unsub`: decisions for
 * one mail's recipients → suppression state → one Action per subject that still needs providers.
 * Sees only the store and rate-counter ports; sending or running the actions is the caller's job.
 * A mail over a rate limit is deferred as a whole: nothing is written, the caller makes the sender
 * retry (docs/security.md).
 */
import { type Action, refSubject } from '../act/action.ts';
import type { AuditEntry, RateCounter, SuppressionStore } from '../ports.ts';
import {
  decideInboundUnsubscribe,
  type InboundUnsubscribeDecision,
  type InboundUnsubscribeMail,
  type InboundUnsubscribeSettings,
  inboundUnsubscribeAction,
  UNVERIFIED_TTL_MS,
  type UnsubscribeVerdict,
} from './inbound-unsubscribe.ts';
import { checkRateLimit, type RateLimitScope } from './unsubscribe-rate-limit.ts';

interface InboundUnsubscribeResult {
  recipient: string;
  verdict: UnsubscribeVerdict;
  /** `ref:mailwizz:<list>:<subscriber>` when the address parsed. */
  subject?: string | undefined;
  /** Suppression state for accepted ones: new, pending (retry), already. */
  state?: 'new' | 'pending' | 'already' | undefined;
  reason: string;
}

interface InboundUnsubscribeOutcome {
  results: InboundUnsubscribeResult[];
  actions: Action[];
  /** Set when the mail went over a rate limit: nothing was written; the sender must retry. */
  deferred?: RateLimitScope | undefined;
}

/**
 * Only mail that would write state counts: refused mail that names no subscription (unsigned,
 * malformed) costs nothing. Over the limit, refused mail is not audited and accepted mail is
 * deferred; undefined = go on.
 */
async function overRateLimit(
  mail: InboundUnsubscribeMail,
  settings: InboundUnsubscribeSettings,
  decisions: readonly InboundUnsubscribeDecision[],
  rateCounter: RateCounter | undefined,
): Promise<InboundUnsubscribeOutcome | undefined> {
  const accepted = decisions.some((d) => d.verdict === 'accepted');
  const writes = accepted || decisions.some((d) => d.ref);
  if (!writes || !rateCounter || !settings.rateLimit) return undefined;
  const limit = await checkRateLimit(rateCounter, settings.rateLimit, mail.sender, mail.receivedAt);
  if (limit.ok) return undefined;
  const results = decisions.map(
    (d): InboundUnsubscribeResult =>
      d.verdict === 'accepted'
        ? {
            recipient: d.recipient,
            verdict: 'rate-limited',
            subject: d.request.subject,
            reason: limit.reason,
          }
        : { recipient: d.recipient, verdict: d.verdict, reason: d.reason },
  );
  return { results, actions: [], ...(accepted ? { deferred: limit.scope } : {}) };
}

async function recordInboundUnsubscribes(
  mail: InboundUnsubscribeMail,
  settings: InboundUnsubscribeSettings,
  store: SuppressionStore,
  rateCounter?: RateCounter | undefined,
): Promise<InboundUnsubscribeOutcome> {
  const decisions = decideInboundUnsubscribe(mail, settings);
  const accepted = decisions.flatMap((d) => (d.verdict === 'accepted' ? [d] : []));
  const limited = await overRateLimit(mail, settings, decisions, rateCounter);
  if (limited) return limited;
  const states = accepted.length > 0 ? await store.suppress(accepted.map((d) => d.request)) : [];
  const actions: Action[] = [];
  const audit: AuditEntry[] = [];
  const seen = new Set<string>();
  const results = decisions.map((d): InboundUnsubscribeResult => {
    if (d.verdict !== 'accepted') {
      const subject = d.ref ? refSubject(d.ref) : undefined;
      // Refused mail that named a real subscription is audited on it: "why am I still subscribed?"
      // It expires: refused input never leaves a permanent record.
      if (subject)
        audit.push({
          subject,
          at: mail.receivedAt,
          type: 'decision',
          action: 'ignore',
          reason: d.reason,
          expiresAt: (mail.processedAt ?? mail.receivedAt) + UNVERIFIED_TTL_MS,
        });
      return { recipient: d.recipient, verdict: d.verdict, subject, reason: d.reason };
    }
    const outcome = states[accepted.indexOf(d)]!;
    let reason = d.reason;
    if (outcome.state === 'already') reason = `${reason}; already suppressed`;
    else if (d.request.providers.length === 0)
      reason = `${reason}; no mailwizz provider routed: recorded only`;
    else if (outcome.state === 'pending')
      reason = `${reason}; retrying ${outcome.pendingProviders.join(', ')}`;
    if (outcome.pendingProviders.length > 0 && !seen.has(d.request.subject)) {
      seen.add(d.request.subject);
      actions.push(inboundUnsubscribeAction(d, outcome.pendingProviders));
    }
    audit.push({
      subject: d.request.subject,
      at: d.request.at,
      type: 'decision',
      action: outcome.state === 'already' ? 'already-suppressed' : 'unsubscribe',
      reason,
      recordKey: d.request.recordKey,
      expiresAt: d.request.expiresAt,
    });
    return {
      recipient: d.recipient,
      verdict: d.verdict,
      subject: d.request.subject,
      state: outcome.state,
      reason,
    };
  });
  if (audit.length > 0) await store.appendAudit(audit);
  return { results, actions };
}

export type { InboundUnsubscribeOutcome, InboundUnsubscribeResult };
export { recordInboundUnsubscribes };
