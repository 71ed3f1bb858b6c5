/**
 * The unsubscribe-mail pipeline shared by the unsub Lambda and `pmta-bounce unsub`: decisions for
 * one mail's recipients → suppression state → one Action per subject that still needs providers.
 * Sees only the store port; sending or running the actions is the caller's job.
 */
import { type Action, refSubject } from '../act/action.ts';
import type { AuditEntry, SuppressionStore } from '../ports.ts';
import {
  decideInboundUnsubscribe,
  type InboundUnsubscribeMail,
  type InboundUnsubscribeSettings,
  inboundUnsubscribeAction,
  type UnsubscribeVerdict,
} from './inbound-unsubscribe.ts';

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
}

async function recordInboundUnsubscribes(
  mail: InboundUnsubscribeMail,
  settings: InboundUnsubscribeSettings,
  store: SuppressionStore,
): Promise<InboundUnsubscribeOutcome> {
  const decisions = decideInboundUnsubscribe(mail, settings);
  const accepted = decisions.flatMap((d) => (d.verdict === 'accepted' ? [d] : []));
  const states = accepted.length > 0 ? await store.suppress(accepted.map((d) => d.request)) : [];
  const actions: Action[] = [];
  const audit: AuditEntry[] = [];
  const seen = new Set<string>();
  const results = decisions.map((d): InboundUnsubscribeResult => {
    if (d.verdict !== 'accepted') {
      const subject = d.ref ? refSubject(d.ref) : undefined;
      // Refused mail that named a real subscription is audited on it: "why am I still subscribed?"
      if (subject)
        audit.push({ subject, at: mail.receivedAt, type: 'decision', action: 'ignore', reason: d.reason });
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
