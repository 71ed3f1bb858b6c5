/**
 * What `suppressions export` and `undo` see of the state: one suppression with where it came from
 * and what it changed at each provider, and the selection an operator makes over them. Pure: the
 * adapters (SQLite, DynamoDB) read the rows, this decides what a row means.
 */
import type { AuditEntry, ListResult } from '../ports.ts';

/** One subscription this product changed (outcome `done`), with its status before, when known. */
interface ChangedList {
  provider: string;
  listId: string;
  listName?: string | undefined;
  /** The provider's status before our call (ListResult.previousStatus), e.g. MailWizz `confirmed`. */
  previousStatus?: string | undefined;
}

interface SuppressionRecord {
  subject: string;
  /** ms since epoch. */
  at: number;
  kind: string;
  category?: string | undefined;
  reason: string;
  rule?: string | undefined;
  /** Accounting record type, or `import:<format>`. */
  recordType?: string | undefined;
  jobId?: string | undefined;
  providersDone: string[];
  /** Subscriptions changed since the subject's last undo (lists answered `already` are not here). */
  changed: ChangedList[];
}

interface SuppressionFilter {
  since?: number | undefined;
  until?: number | undefined;
  /** Any of these categories. */
  categories?: readonly string[] | undefined;
  rule?: string | undefined;
  /** Case-insensitive substring of the reason. */
  reason?: string | undefined;
  jobId?: string | undefined;
  /** Changed something at (or finished at) this provider. */
  provider?: string | undefined;
  /** Any of these subjects (normalised addresses or `ref:` subjects). */
  subjects?: readonly string[] | undefined;
}

/** The audit action that records an undo (decision) and each provider's put-back (provider). */
const UNDO_ACTION = 'undo';

/**
 * Lists changed by provider unsubscribes after the last undo in the trail (in audit order). A list
 * answered `already` (unsubscribed before we came, e.g. by the subscriber's own request) is never
 * in it: an undo must not touch what we did not change.
 */
function changedLists(audit: readonly AuditEntry[]): ChangedList[] {
  let start = 0;
  audit.forEach((a, i) => {
    if (a.type === 'decision' && a.action === UNDO_ACTION) start = i + 1;
  });
  const out = new Map<string, ChangedList>();
  for (const a of audit.slice(start)) {
    if (a.type !== 'provider' || a.action !== 'unsubscribe' || !a.provider) continue;
    for (const list of a.lists ?? []) {
      if (list.outcome !== 'done') continue;
      const key = `${a.provider}\u0000${list.listId}`;
      if (!out.has(key)) out.set(key, changedList(a.provider, list));
    }
  }
  return [...out.values()];
}

function changedList(provider: string, list: ListResult): ChangedList {
  return {
    provider,
    listId: list.listId,
    ...(list.listName ? { listName: list.listName } : {}),
    ...(list.previousStatus ? { previousStatus: list.previousStatus } : {}),
  };
}

function matchesFilter(record: SuppressionRecord, filter: SuppressionFilter): boolean {
  if (filter.since !== undefined && record.at < filter.since) return false;
  if (filter.until !== undefined && record.at > filter.until) return false;
  if (filter.categories?.length && !filter.categories.includes(record.category ?? '')) return false;
  if (filter.rule !== undefined && record.rule !== filter.rule) return false;
  if (filter.jobId !== undefined && record.jobId !== filter.jobId) return false;
  if (filter.reason !== undefined && !record.reason.toLowerCase().includes(filter.reason.toLowerCase()))
    return false;
  if (filter.subjects?.length && !filter.subjects.includes(record.subject)) return false;
  if (filter.provider !== undefined) {
    const p = filter.provider;
    if (!record.providersDone.includes(p) && !record.changed.some((c) => c.provider === p)) return false;
  }
  return true;
}

export type { ChangedList, SuppressionFilter, SuppressionRecord };
export { changedLists, matchesFilter, UNDO_ACTION };
