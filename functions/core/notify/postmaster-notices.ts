/**
 * The postmaster notices the producers add (the NoticeStore port, core/ports.ts, keeps them until
 * the next digest): one for a complaint, one for a provider that failed an action for good.
 */
import { type Action, refSubject } from '../act/action.ts';
import type { ProviderOutcome } from '../act/run-action.ts';
import type { MailEvent } from '../mail-event.ts';
import { NoticeKind, type PostmasterNotice } from '../ports.ts';

/** The notice for a complaint the ingest side acted on (or ignored by policy). */
function complaintNotice(event: MailEvent, reason: string, fallbackAt: number): PostmasterNotice {
  const ref = event.refs[0];
  return {
    id: `complaint:${event.key}`,
    kind: NoticeKind.complaint,
    at: event.occurredAt ?? fallbackAt,
    subject: event.recipient ?? (ref ? refSubject(ref) : '(recipient anonymised)'),
    reason,
    category: event.feedbackType,
    detail: event.orig ? `sender ${event.orig}` : undefined,
    jobId: event.jobId,
  };
}

/** The notice for one provider that failed an action for good (permanent error or retries exhausted). */
function failedActionNotice(action: Action, outcome: ProviderOutcome, at: number): PostmasterNotice {
  return {
    id: `failed:${action.id}:${outcome.provider}`,
    kind: NoticeKind.actionFailed,
    at,
    subject: action.subject,
    reason: action.reason,
    provider: outcome.provider,
    category: action.category,
    detail: outcome.error,
    jobId: action.jobId,
  };
}

export { complaintNotice, failedActionNotice };
