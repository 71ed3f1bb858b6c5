/**
 * The audit trail of the local state (`audit_trail`, sqlite-state-schema.ts): one lean row per
 * decision and provider outcome, its texts by reference and its record key hashed
 * (docs/benchmarks.md). Written by the suppression store, read by `status` and by the ledger
 * (`suppressions export`, `undo`), which also appends the undo entry.
 */
import type Database from 'better-sqlite3';
import { StoreError } from '#core/errors.ts';
import type { AuditEntry } from '#core/ports.ts';
import { AUDIT_THREAD_FIELDS, attachDecisionFile } from './sqlite-decision-file.ts';
import { hasTable, recordKeyHash, recordKeyLabel, subjectHash } from './sqlite-state-schema.ts';
import { StateTexts } from './sqlite-state-texts.ts';

interface StoredEntry {
  subject: string;
  at: number;
  type: AuditEntry['type'];
  action: string;
  reason: string;
  rule: string | null;
  line: number | null;
  record_key: number | null;
  provider: string | null;
  outcome: AuditEntry['outcome'] | null;
  lists: string | null;
  expires_at: number | null;
}

const TEXT_OF = (column: string) => `(SELECT text FROM texts WHERE id = a.${column}) AS ${column}`;
const ENTRY_COLUMNS = `a.subject, a.at, ${['type', 'action', 'reason', 'rule'].map(TEXT_OF).join(', ')},
  a.line, a.record_key, a.provider, a.outcome, a.lists, a.expires_at`;
const SELECT_ENTRIES = `SELECT ${ENTRY_COLUMNS}
  FROM audit_trail a WHERE a.subject_hash = @hash AND a.subject = @subject AND (a.expires_at IS NULL OR a.expires_at > @now) ORDER BY a.seq`;
/**
 * With a decision file (sqlite-decision-file.ts): its rows of committed batches, each placed after
 * the state's entry `after_seq` (the last one when the thread was handed the row), in their order.
 */
const SELECT_WITH_DECISIONS = `SELECT ${ENTRY_COLUMNS} FROM (
  SELECT seq AS k1, 0 AS k2, seq AS k3, subject, at, type, action, reason, rule, line, record_key,
         provider, outcome, lists, expires_at
    FROM main.audit_trail WHERE subject_hash = @hash AND subject = @subject AND (expires_at IS NULL OR expires_at > @now)
  UNION ALL
  SELECT after_seq, 1, seq, subject, at, type, action, reason, rule, line, record_key, NULL, NULL, NULL, NULL
    FROM decided.decisions WHERE subject_hash = @hash AND subject = @subject
     AND batch IN (SELECT batch FROM main.audit_batches)
) a ORDER BY a.k1, a.k2, a.k3`;

function toEntry(a: StoredEntry): AuditEntry {
  return {
    subject: a.subject,
    at: a.at,
    type: a.type,
    action: a.action,
    reason: a.reason,
    provider: a.provider ?? undefined,
    outcome: a.outcome ?? undefined,
    lists: a.lists ? (JSON.parse(a.lists) as AuditEntry['lists']) : undefined,
    line: a.line ?? undefined,
    // Stored as a hash since issue 14: shown as one, `h:` and 14 hex digits.
    recordKey: a.record_key === null ? undefined : recordKeyLabel(a.record_key),
    ...(a.expires_at === null ? {} : { expiresAt: a.expires_at }),
    ...(a.rule === null ? {} : { rule: a.rule }),
  };
}

class SqliteAuditTrail {
  readonly #texts: StateTexts;
  readonly #insertDecision: Database.Statement;
  readonly #insertEntry: Database.Statement;
  readonly #keep: Database.Statement<[number, string]>;
  readonly #select: Database.Statement<[{ hash: number; subject: string; now: number }], StoredEntry>;
  /** Why the decision file could not be read: only the readers of entries fail (not `unsub`). */
  readonly #decisionsUnreadable: StoreError | undefined;

  constructor(db: Database.Database, texts = new StateTexts(db)) {
    this.#texts = texts;
    // A decision (the common entry) binds only its own columns.
    this.#insertDecision = db.prepare(
      `INSERT INTO audit_trail (subject_hash, subject, at, type, action, reason, rule, line, record_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertEntry = db.prepare(
      `INSERT INTO audit_trail (subject_hash, subject, at, type, action, reason, rule, line, record_key, provider, outcome, lists, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    let decided = false;
    try {
      decided =
        attachDecisionFile(db) && hasTable(db, 'decisions', 'decided') && hasTable(db, 'audit_batches');
    } catch (error) {
      this.#decisionsUnreadable =
        error instanceof StoreError
          ? error
          : new StoreError(`cannot read the audit's decision file: ${(error as Error).message}`, {
              cause: error,
            });
    }
    this.#select = db.prepare(decided ? SELECT_WITH_DECISIONS : SELECT_ENTRIES);
    this.#keep = db.prepare(
      'UPDATE audit_trail SET expires_at = NULL WHERE subject_hash = ? AND subject = ? AND expires_at IS NOT NULL',
    );
  }

  /** Appends in the caller's transaction. */
  append(e: AuditEntry): void {
    const texts = this.#texts;
    const type = texts.id(e.type);
    const action = texts.id(e.action);
    const reason = texts.id(e.reason);
    const rule = e.rule === undefined ? null : texts.id(e.rule);
    const key = e.recordKey === undefined ? null : recordKeyHash(e.recordKey);
    const line = e.line ?? null;
    const hash = subjectHash(e.subject);
    if (SqliteAuditTrail.isDecision(e)) {
      this.#insertDecision.run(hash, e.subject, e.at, type, action, reason, rule, line, key);
      return;
    }
    const lists = e.lists ? JSON.stringify(e.lists) : null;
    const extra = [e.provider ?? null, e.outcome ?? null, lists, e.expiresAt ?? null];
    this.#insertEntry.run(hash, e.subject, e.at, type, action, reason, rule, line, key, ...extra);
  }

  /** Whether `append` would write `e` as a plain decision (the only entries the audit thread takes). */
  static isDecision(e: AuditEntry): boolean {
    return e.provider === undefined && e.outcome === undefined && !e.lists && e.expiresAt === undefined;
  }

  /**
   * Decision entries as the audit thread takes them (sqlite-decision-file.ts): AUDIT_THREAD_FIELDS
   * numbers each (NaN for NULL), texts as ids added in the caller's transaction; subjects and record
   * keys as they are (the thread hashes them).
   */
  encode(entries: readonly AuditEntry[]): {
    nums: Float64Array;
    text: string;
    lengths: Int32Array;
  } {
    const texts = this.#texts;
    const nums = new Float64Array(entries.length * AUDIT_THREAD_FIELDS);
    const parts = new Array<string>(entries.length * 2);
    const lengths = new Int32Array(entries.length * 2);
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      const o = i * AUDIT_THREAD_FIELDS;
      nums[o] = e.at;
      nums[o + 1] = texts.id(e.type);
      nums[o + 2] = texts.id(e.action);
      nums[o + 3] = texts.id(e.reason);
      nums[o + 4] = e.rule === undefined ? Number.NaN : texts.id(e.rule);
      nums[o + 5] = e.line ?? Number.NaN;
      parts[i * 2] = e.subject;
      parts[i * 2 + 1] = e.recordKey ?? '';
      lengths[i * 2] = e.subject.length;
      lengths[i * 2 + 1] = e.recordKey === undefined ? -1 : e.recordKey.length;
    }
    return { nums, text: parts.join(''), lengths };
  }

  /** A provisional subject confirmed: its entries stop expiring (in the caller's transaction). */
  keep(subject: string): void {
    this.#keep.run(subjectHash(subject), subject);
  }

  /** After a failed transaction: texts it added are gone (sqlite-state-texts.ts). */
  rolledBack(): void {
    this.#texts.forget();
  }

  /** The live (permanent or unexpired) entries of a subject, oldest first. */
  entries(subject: string, now: number): AuditEntry[] {
    if (this.#decisionsUnreadable) throw this.#decisionsUnreadable;
    return this.#select.all({ hash: subjectHash(subject), subject, now }).map(toEntry);
  }
}

export { SqliteAuditTrail };
