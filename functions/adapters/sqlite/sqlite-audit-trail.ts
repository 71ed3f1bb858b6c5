/**
 * The audit trail of the local state (`audit_trail`, sqlite-state-schema.ts): one lean row per
 * decision and provider outcome, its texts by reference and its record key hashed
 * (docs/benchmarks.md). Written by the suppression store, read by `status` and by the ledger
 * (`suppressions export`, `undo`), which also appends the undo entry.
 */
import type Database from 'better-sqlite3';
import type { AuditEntry } from '#core/ports.ts';
import { recordKeyHash, recordKeyLabel, subjectHash } from './sqlite-state-schema.ts';
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
const SELECT_ENTRIES = `SELECT a.subject, a.at, ${['type', 'action', 'reason', 'rule'].map(TEXT_OF).join(', ')},
  a.line, a.record_key, a.provider, a.outcome, a.lists, a.expires_at
  FROM audit_trail a WHERE a.subject_hash = ? AND a.subject = ? AND (a.expires_at IS NULL OR a.expires_at > ?) ORDER BY a.seq`;

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
  readonly #select: Database.Statement<[number, string, number], StoredEntry>;

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
    this.#select = db.prepare(SELECT_ENTRIES);
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
    if (e.provider === undefined && e.outcome === undefined && !e.lists && e.expiresAt === undefined) {
      this.#insertDecision.run(hash, e.subject, e.at, type, action, reason, rule, line, key);
      return;
    }
    const lists = e.lists ? JSON.stringify(e.lists) : null;
    const extra = [e.provider ?? null, e.outcome ?? null, lists, e.expiresAt ?? null];
    this.#insertEntry.run(hash, e.subject, e.at, type, action, reason, rule, line, key, ...extra);
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
    return this.#select.all(subjectHash(subject), subject, now).map(toEntry);
  }
}

export { SqliteAuditTrail };
