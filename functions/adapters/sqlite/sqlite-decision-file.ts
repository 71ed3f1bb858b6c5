/**
 * The decision file: the audit trail's decision entries that `process` writes from its audit
 * thread, in a second SQLite file beside the state (`<state>-audit`), so the main thread does not
 * spend a B-tree insert per record on them (docs/benchmarks.md, "The audit thread"). One file
 * cannot take both: SQLite lets one connection write a file at a time.
 *
 * A row counts only once the state file's `audit_batches` names its batch, which the main thread
 * writes in the same transaction as the decisions themselves, after the thread has made the rows
 * durable. Rows of a batch whose state never committed (a crash, a failed write) stay invisible.
 */
import { existsSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { StoreError } from '#core/errors.ts';

/**
 * Numbers per transferred row: at, type, action, reason, rule, line (NaN for NULL). The subject
 * and the record key travel as text and are hashed by the thread: hashing a ~100-character record
 * key cost the main thread more than the rest of the row (docs/benchmarks.md).
 */
const AUDIT_THREAD_FIELDS = 6;

const DECISION_FILE_SCHEMA = `
CREATE TABLE IF NOT EXISTS decisions (
  seq INTEGER PRIMARY KEY,
  batch INTEGER NOT NULL,
  after_seq INTEGER NOT NULL,
  subject_hash INTEGER NOT NULL,
  subject TEXT NOT NULL,
  at INTEGER NOT NULL,
  type INTEGER NOT NULL,
  action INTEGER NOT NULL,
  reason INTEGER NOT NULL,
  rule INTEGER,
  line INTEGER,
  record_key INTEGER
);
CREATE INDEX IF NOT EXISTS decisions_subject ON decisions (subject_hash);
CREATE TABLE IF NOT EXISTS synced_batches (batch INTEGER PRIMARY KEY, at INTEGER NOT NULL) WITHOUT ROWID;
`;

type AuditThreadMessage =
  | {
      kind: 'rows';
      batch: number;
      afterSeq: number;
      nums: Float64Array;
      /** Each row's subject then its record key, end to end: one string to copy, not two per row. */
      text: string;
      /** Per row: the subject's length, the record key's (-1: none). */
      lengths: Int32Array;
    }
  | { kind: 'sync'; batch: number; ticket: number }
  | { kind: 'close'; ticket: number };

/** The decision file of the state file `statePath`. */
function decisionFilePath(statePath: string): string {
  return `${statePath}-audit`;
}

/**
 * Attaches the decision file of `db`'s state file as schema `decided`, when there is one: its
 * entries are then read with the state's own (sqlite-audit-trail.ts). Not inside a transaction.
 */
function attachDecisionFile(db: Database.Database): boolean {
  if (db.memory || !db.name) return false;
  const path = decisionFilePath(db.name);
  if (!existsSync(path)) return false;
  const attached = db.prepare("SELECT 1 FROM pragma_database_list WHERE name = 'decided'").get();
  try {
    if (!attached) db.prepare('ATTACH DATABASE ? AS decided').run(path);
  } catch (error) {
    throw new StoreError(
      `cannot open state ${path} (the audit's decision file): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  return true;
}

export type { AuditThreadMessage };
export { AUDIT_THREAD_FIELDS, attachDecisionFile, DECISION_FILE_SCHEMA, decisionFilePath };
