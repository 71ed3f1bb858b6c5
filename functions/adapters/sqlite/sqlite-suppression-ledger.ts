/**
 * The suppressions of a local state file as `suppressions export` and `undo` see them
 * (core/suppressions/suppression-ledger.ts): each row with its provenance and the lists its
 * provider calls changed, read from the audit; and `forget`, which takes one suppression out of
 * the state (the audit keeps it, plus the undo).
 */
import type Database from 'better-sqlite3';
import type { Action } from '#core/act/action.ts';
import type { AuditEntry } from '#core/ports.ts';
import {
  changedLists,
  matchesFilter,
  type SuppressionFilter,
  type SuppressionRecord,
} from '#core/suppressions/suppression-ledger.ts';
import { SqliteAuditTrail } from './sqlite-audit-trail.ts';
import { SUPPRESSION_REASON } from './sqlite-state-schema.ts';

interface SuppressionRow {
  subject: string;
  at: number;
  kind: string;
  category: string | null;
  reason: string;
  rule: string | null;
  record_type: string | null;
  job_id: string | null;
  providers_done: string;
}

const PAGE_ROWS = 1000;

class SqliteSuppressionLedger {
  readonly #db: Database.Database;
  readonly #audit: SqliteAuditTrail;
  readonly #now: () => number;

  constructor(db: Database.Database, now: () => number) {
    this.#db = db;
    this.#now = now;
    this.#audit = new SqliteAuditTrail(db);
  }

  /**
   * Live (permanent or unexpired) suppressions matching the filter, oldest first. Pages by
   * (at, subject) so memory stays flat and the connection is free between pages (a running
   * better-sqlite3 iterator would block the audit reads).
   */
  *select(filter: SuppressionFilter = {}): Generator<SuppressionRecord> {
    const page = this.#db.prepare(
      `SELECT subject, at, kind, category, ${SUPPRESSION_REASON} AS reason, rule, record_type, job_id, providers_done
         FROM suppressions
        WHERE (expires_at IS NULL OR expires_at > @now) AND at >= @since AND at <= @until
          AND (at > @afterAt OR (at = @afterAt AND subject > @afterSubject))
        ORDER BY at, subject LIMIT ${PAGE_ROWS}`,
    );
    const bounds = {
      now: this.#now(),
      since: filter.since ?? Number.MIN_SAFE_INTEGER,
      until: filter.until ?? Number.MAX_SAFE_INTEGER,
    };
    let after = { afterAt: Number.MIN_SAFE_INTEGER, afterSubject: '' };
    for (;;) {
      const rows = page.all({ ...bounds, ...after }) as SuppressionRow[];
      for (const row of rows) {
        const record = this.#record(row);
        if (matchesFilter(record, filter)) yield record;
      }
      if (rows.length < PAGE_ROWS) return;
      const last = rows[rows.length - 1]!;
      after = { afterAt: last.at, afterSubject: last.subject };
    }
  }

  /**
   * Takes the suppression out of the state — the row, its soft bounces, any unsubscribe still owed —
   * and, in the same transaction, audits the undo and queues the undo action (if any provider has
   * something to put back): a crash leaves either all of it or none.
   */
  forget(subject: string, audit: AuditEntry, action: Action | undefined): boolean {
    const run = this.#db.transaction(() => {
      const gone = this.#db.prepare('DELETE FROM suppressions WHERE subject = ?').run(subject).changes;
      if (gone === 0) return false;
      this.#db.prepare('DELETE FROM soft_bounces WHERE address = ?').run(subject);
      this.#db.prepare('DELETE FROM outbox WHERE subject = ?').run(subject);
      this.#db.prepare('DELETE FROM outbox_parked WHERE subject = ?').run(subject);
      const { at, type, action: what, reason } = audit;
      this.#audit.append({ subject, at, type, action: what, reason });
      if (action)
        this.#db
          .prepare('INSERT INTO outbox (subject, action) VALUES (?, ?)')
          .run(subject, JSON.stringify(action));
      return true;
    });
    try {
      return run();
    } catch (error) {
      this.#audit.rolledBack();
      throw error;
    }
  }

  #record(row: SuppressionRow): SuppressionRecord {
    // Every entry, expiring ones included (they are swept on open, not hidden here).
    const audit = this.#audit.entries(row.subject, Number.MIN_SAFE_INTEGER);
    return {
      subject: row.subject,
      at: row.at,
      kind: row.kind,
      ...(row.category ? { category: row.category } : {}),
      reason: row.reason,
      ...(row.rule ? { rule: row.rule } : {}),
      ...(row.record_type ? { recordType: row.record_type } : {}),
      ...(row.job_id ? { jobId: row.job_id } : {}),
      providersDone: JSON.parse(row.providers_done) as string[],
      changed: changedLists(audit),
    };
  }
}

export { SqliteSuppressionLedger };
