/**
 * Postmaster notices (complaints, actions that failed for good) waiting for the next digest, and
 * the port that keeps them. Producers (ingest, act) add; the digest function reads the oldest,
 * mails them as one digest, then removes what it sent.
 */
import { type Action, refSubject } from './act/action.ts';
import type { ProviderOutcome } from './act/run-action.ts';
import type { MailEvent } from './mail-event.ts';

const NoticeKind = {
  complaint: 'complaint',
  actionFailed: 'action-failed',
} as const;
type NoticeKind = (typeof NoticeKind)[keyof typeof NoticeKind];

interface PostmasterNotice {
  /** Stable identity: the same event recorded twice (a replay) is one notice. */
  id: string;
  kind: NoticeKind;
  /** When it happened, ms since epoch. */
  at: number;
  /** The recipient address, or the provider-ids subject `ref:<type>:<list>:<subscriber>`. */
  subject: string;
  /** Why (the decision reason, or what failed). */
  reason: string;
  provider?: string | undefined;
  /** Complaint feedback type, or bounce category. */
  category?: string | undefined;
  /** Provider error or diagnostic text, as received (it is escaped when mailed). */
  detail?: string | undefined;
  jobId?: string | undefined;
}

/** A notice as stored: `key` is what `remove` takes. */
interface StoredNotice extends PostmasterNotice {
  key: string;
}

interface NoticeStore {
  /** Adds notices (idempotent per id). */
  add(notices: readonly PostmasterNotice[]): Promise<void>;
  /** The oldest pending notices, at most `limit`. */
  pending(limit: number): Promise<StoredNotice[]>;
  remove(keys: readonly string[]): Promise<void>;
}

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

export type { NoticeStore, PostmasterNotice, StoredNotice };
export { complaintNotice, failedActionNotice, NoticeKind };
