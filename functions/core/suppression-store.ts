/**
 * The suppression state port: who is taken off (per normalised address or provider-id subject),
 * soft-bounce counters with their window, and the audit trail of every decision and provider
 * outcome. Batch-shaped so adapters can use transactions (SQLite) or batched calls (DynamoDB).
 */
import type { ListResult } from './list-provider.ts';

interface SuppressionRequest {
  subject: string;
  kind: string;
  category?: string | undefined;
  reason: string;
  /** Record identity (dedupe key) that caused it. */
  recordKey: string;
  /** ms since epoch. */
  at: number;
  /** Providers this subject must reach (routing result). */
  providers: readonly string[];
  /**
   * ms since epoch: a provisional suppression (ids nobody has vouched for yet, e.g. a mailto
   * unsubscribe). A new subject is written to expire then unless `confirm` makes it permanent; an
   * expired one counts as absent. An existing permanent suppression is left as it is.
   */
  expiresAt?: number | undefined;
  /** Bounces: the classification rule id (kept for export and `undo --rule`). */
  rule?: string | undefined;
  /** The accounting record type (`b`, `rb`, `f`, ...) or `import:<format>` for imported rows. */
  recordType?: string | undefined;
  /** The accounting record's jobId (kept for export and `undo --job`). */
  jobId?: string | undefined;
  /**
   * Providers settled from the start: nothing is owed to them for a new subject (an import that
   * records only). Absent = none.
   */
  providersDone?: readonly string[] | undefined;
}

interface SuppressionOutcome {
  subject: string;
  /**
   * new: first time suppressed; pending: suppressed before but some routed providers are not
   * done yet (a failed earlier run, or a provider added since); already: nothing left to do.
   */
  state: 'new' | 'pending' | 'already';
  /** Routed providers not yet done for this subject. */
  pendingProviders: string[];
}

interface SoftBounceRequest {
  address: string;
  recordKey: string;
  at: number;
}

interface AuditEntry {
  subject: string;
  at: number;
  /** decision: what the core decided for a record; provider: what a provider call did. */
  type: 'decision' | 'provider';
  action: string;
  reason: string;
  provider?: string | undefined;
  outcome?: 'done' | 'already' | 'not-found' | 'failed' | 'manual' | undefined;
  lists?: ListResult[] | undefined;
  line?: number | undefined;
  recordKey?: string | undefined;
  /** ms since epoch: the entry expires then unless `confirm` keeps the subject's trail. */
  expiresAt?: number | undefined;
}

interface SubjectStatus {
  subject: string;
  suppressed:
    | {
        at: number;
        kind: string;
        category?: string | undefined;
        reason: string;
        providersDone: string[];
        /** Set while the suppression is provisional (SuppressionRequest.expiresAt). */
        expiresAt?: number | undefined;
      }
    | undefined;
  softBounces: Array<{ at: number; recordKey: string }>;
  audit: AuditEntry[];
}

interface SuppressionStore {
  /** Marks subjects suppressed (idempotent); one outcome per request, in order. */
  suppress(requests: readonly SuppressionRequest[]): Promise<SuppressionOutcome[]>;
  /**
   * Adds soft bounces (a record key is counted once, however often replayed) and returns, per
   * request, the most soft bounces of that address found in any window of windowMs that contains
   * `at` (core/soft-bounce-window.ts): in time order that is [at - windowMs, at]; out of order a
   * late-decided earlier bounce still completes the count.
   */
  recordSoftBounces(requests: readonly SoftBounceRequest[], windowMs: number): Promise<number[]>;
  /** A provider finished (or gave up on) a subject. */
  markProvider(subject: string, provider: string, outcome: 'done' | 'failed'): Promise<void>;
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /**
   * A provider vouched for the subject (the subscription exists): its provisional suppression and
   * audit entries become permanent. Nothing happens to an unknown or already permanent subject.
   */
  confirm(subject: string): Promise<void>;
  status(subject: string): Promise<SubjectStatus>;
  close(): Promise<void>;
}

export type {
  AuditEntry,
  SoftBounceRequest,
  SubjectStatus,
  SuppressionOutcome,
  SuppressionRequest,
  SuppressionStore,
};
