/**
 * SuppressionStore on SQLite (local mode, the embedded default). better-sqlite3 is synchronous:
 * each port call is one transaction, so a batch of thousands of records costs one fsync.
 * With `base`, the store is an overlay for --dry-run: reads also consult the real state file
 * (opened read-only), writes stay in memory and vanish.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Action } from '#core/act/action.ts';
import { softBouncesInWindow } from '#core/decide/soft-bounce-window.ts';
import { StoreError } from '#core/errors.ts';
import type {
  AuditEntry,
  SoftBounceRequest,
  SubjectStatus,
  SuppressionOutcome,
  SuppressionRequest,
  SuppressionStore,
} from '#core/ports.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS suppressions (
  subject TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  category TEXT,
  reason TEXT NOT NULL,
  record_key TEXT NOT NULL,
  providers_done TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS soft_bounces (
  address TEXT NOT NULL,
  record_key TEXT NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (address, record_key)
);
CREATE INDEX IF NOT EXISTS soft_bounces_at ON soft_bounces (address, at);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  subject TEXT NOT NULL,
  at INTEGER NOT NULL,
  type TEXT NOT NULL,
  action TEXT NOT NULL,
  reason TEXT NOT NULL,
  provider TEXT,
  outcome TEXT,
  lists TEXT,
  line INTEGER,
  record_key TEXT
);
CREATE INDEX IF NOT EXISTS audit_subject ON audit (subject, id);
CREATE TABLE IF NOT EXISTS outbox (
  subject TEXT PRIMARY KEY,
  action TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rejects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  source TEXT NOT NULL,
  line INTEGER NOT NULL,
  reason TEXT NOT NULL,
  raw TEXT NOT NULL
);
`;

interface SqliteSuppressionStoreOptions {
  /** State file; `:memory:` for tests and dry runs. */
  path: string;
  /** Read-only state consulted underneath (dry run). */
  basePath?: string | undefined;
  /** false: drop audit entries (a dry run's throwaway state has no reader for them). */
  audit?: boolean;
  /** A throwaway file (dry run): no journal, no syncs — nothing to protect, speed matters. */
  scratch?: boolean;
}

type Row = { providers_done: string } | undefined;

class SqliteSuppressionStore implements SuppressionStore {
  private readonly db: Database.Database;
  private readonly base: Database.Database | undefined;
  private readonly getSuppression: Database.Statement<[string], { providers_done: string }>;
  private readonly baseGetSuppression: Database.Statement<[string], { providers_done: string }> | undefined;
  private readonly insertSuppression: Database.Statement;
  private readonly updateDone: Database.Statement;
  private readonly insertSoft: Database.Statement;
  private readonly softNear: Database.Statement<[string, number, number], { at: number }>;
  private readonly baseSoftNear: Database.Statement<[string, number, number], { at: number }> | undefined;
  private readonly insertAudit: Database.Statement;
  private readonly insertReject: Database.Statement;
  private readonly keepAudit: boolean;

  constructor(options: SqliteSuppressionStoreOptions) {
    this.keepAudit = options.audit ?? true;
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      this.db = new Database(options.path);
      this.db.pragma(options.scratch ? 'journal_mode = OFF' : 'journal_mode = WAL');
      this.db.pragma(options.scratch ? 'synchronous = OFF' : 'synchronous = NORMAL');
      if (options.scratch) {
        this.db.pragma('locking_mode = EXCLUSIVE');
        // Random-order addresses: a bigger page cache keeps index inserts in memory (bounded).
        this.db.pragma('cache_size = -16384');
      }
      this.db.exec(SCHEMA);
      this.base = options.basePath
        ? new Database(options.basePath, { readonly: true, fileMustExist: true })
        : undefined;
    } catch (error) {
      throw new StoreError(`cannot open state ${options.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    this.getSuppression = this.db.prepare('SELECT providers_done FROM suppressions WHERE subject = ?');
    this.baseGetSuppression = this.base?.prepare('SELECT providers_done FROM suppressions WHERE subject = ?');
    this.insertSuppression = this.db.prepare(
      `INSERT INTO suppressions (subject, at, kind, category, reason, record_key, providers_done)
       VALUES (@subject, @at, @kind, @category, @reason, @recordKey, @done)`,
    );
    this.updateDone = this.db.prepare('UPDATE suppressions SET providers_done = ? WHERE subject = ?');
    this.insertSoft = this.db.prepare(
      'INSERT OR IGNORE INTO soft_bounces (address, record_key, at) VALUES (?, ?, ?)',
    );
    this.softNear = this.db.prepare('SELECT at FROM soft_bounces WHERE address = ? AND at >= ? AND at <= ?');
    this.baseSoftNear = this.base?.prepare(
      'SELECT at FROM soft_bounces WHERE address = ? AND at >= ? AND at <= ?',
    );
    this.insertAudit = this.db.prepare(
      `INSERT INTO audit (subject, at, type, action, reason, provider, outcome, lists, line, record_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertReject = this.db.prepare(
      'INSERT INTO rejects (at, source, line, reason, raw) VALUES (?, ?, ?, ?, ?)',
    );
  }

  private lookup(subject: string): Row {
    return this.getSuppression.get(subject) ?? this.baseGetSuppression?.get(subject);
  }

  async suppress(requests: readonly SuppressionRequest[]): Promise<SuppressionOutcome[]> {
    const run = this.db.transaction((reqs: readonly SuppressionRequest[]) => {
      const insertedNow = new Set<string>();
      return reqs.map((r): SuppressionOutcome => {
        const existing = this.lookup(r.subject);
        if (!existing) {
          this.insertSuppression.run({
            subject: r.subject,
            at: r.at,
            kind: r.kind,
            category: r.category ?? null,
            reason: r.reason,
            recordKey: r.recordKey,
            done: '[]',
          });
          insertedNow.add(r.subject);
          return { subject: r.subject, state: 'new', pendingProviders: [...r.providers] };
        }
        // A second record for a subject suppressed earlier in this same batch adds nothing.
        if (insertedNow.has(r.subject)) return { subject: r.subject, state: 'already', pendingProviders: [] };
        const done = new Set<string>(JSON.parse(existing.providers_done) as string[]);
        const pendingProviders = r.providers.filter((p) => !done.has(p));
        return {
          subject: r.subject,
          state: pendingProviders.length > 0 ? 'pending' : 'already',
          pendingProviders,
        };
      });
    });
    return run(requests);
  }

  async recordSoftBounces(requests: readonly SoftBounceRequest[], windowMs: number): Promise<number[]> {
    const run = this.db.transaction((reqs: readonly SoftBounceRequest[]) =>
      reqs.map((r) => {
        this.insertSoft.run(r.address, r.recordKey, r.at);
        const range = [r.address, r.at - windowMs, r.at + windowMs] as const;
        const near = this.softNear.all(...range).map((row) => row.at);
        for (const row of this.baseSoftNear?.all(...range) ?? []) near.push(row.at);
        return softBouncesInWindow(near, r.at, windowMs);
      }),
    );
    return run(requests);
  }

  async markProvider(subject: string, provider: string, outcome: 'done' | 'failed'): Promise<void> {
    if (outcome !== 'done') return;
    const run = this.db.transaction(() => {
      const existing = this.getSuppression.get(subject);
      if (!existing) return;
      const done = new Set<string>(JSON.parse(existing.providers_done) as string[]);
      if (done.has(provider)) return;
      done.add(provider);
      this.updateDone.run(JSON.stringify([...done].sort()), subject);
    });
    run();
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (!this.keepAudit) return;
    const run = this.db.transaction((items: readonly AuditEntry[]) => {
      for (const e of items) {
        this.insertAudit.run(
          e.subject,
          e.at,
          e.type,
          e.action,
          e.reason,
          e.provider ?? null,
          e.outcome ?? null,
          e.lists ? JSON.stringify(e.lists) : null,
          e.line ?? null,
          e.recordKey ?? null,
        );
      }
    });
    run(entries);
  }

  /** Malformed records, kept with their raw text so an operator can fix and replay them. */
  recordRejects(
    rejects: ReadonlyArray<{ line: number; raw: string; reason: string }>,
    source: string,
    at: number,
  ): void {
    const run = this.db.transaction(() => {
      for (const r of rejects) this.insertReject.run(at, source, r.line, r.reason, r.raw);
    });
    run();
  }

  listRejects(limit = 100): Array<{ at: number; source: string; line: number; reason: string; raw: string }> {
    return this.db
      .prepare('SELECT at, source, line, reason, raw FROM rejects ORDER BY id DESC LIMIT ?')
      .all(limit) as Array<{ at: number; source: string; line: number; reason: string; raw: string }>;
  }

  /**
   * Local mode's outbox (the cloud's actions queue): an action is written before its provider
   * calls and removed once every provider finished, so a crash or a failed provider leaves it to
   * the next run instead of losing it (a pipe never replays the record).
   */
  enqueueActions(actions: readonly Action[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO outbox (subject, action) VALUES (?, ?)');
    const run = this.db.transaction(() => {
      for (const a of actions) insert.run(a.subject, JSON.stringify(a));
    });
    run();
  }

  completeAction(subject: string): void {
    this.db.prepare('DELETE FROM outbox WHERE subject = ?').run(subject);
  }

  /** Actions left by earlier runs, each narrowed to the providers not done yet. */
  pendingActions(): Action[] {
    const rows = this.db.prepare('SELECT subject, action FROM outbox ORDER BY rowid').all() as Array<{
      subject: string;
      action: string;
    }>;
    const out: Action[] = [];
    for (const row of rows) {
      const action = JSON.parse(row.action) as Action;
      const done = new Set<string>(
        JSON.parse(this.getSuppression.get(row.subject)?.providers_done ?? '[]') as string[],
      );
      const providers = action.providers.filter((p) => !done.has(p));
      if (providers.length === 0) this.completeAction(row.subject);
      else out.push({ ...action, providers });
    }
    return out;
  }

  async status(subject: string): Promise<SubjectStatus> {
    const s = this.db
      .prepare('SELECT at, kind, category, reason, providers_done FROM suppressions WHERE subject = ?')
      .get(subject) as
      | { at: number; kind: string; category: string | null; reason: string; providers_done: string }
      | undefined;
    const soft = this.db
      .prepare('SELECT at, record_key AS recordKey FROM soft_bounces WHERE address = ? ORDER BY at')
      .all(subject) as Array<{ at: number; recordKey: string }>;
    const audit = (
      this.db
        .prepare(
          'SELECT subject, at, type, action, reason, provider, outcome, lists, line, record_key FROM audit WHERE subject = ? ORDER BY id',
        )
        .all(subject) as Array<Record<string, unknown>>
    ).map(
      (a): AuditEntry => ({
        subject: a.subject as string,
        at: a.at as number,
        type: a.type as AuditEntry['type'],
        action: a.action as string,
        reason: a.reason as string,
        provider: (a.provider as string | null) ?? undefined,
        outcome: (a.outcome as AuditEntry['outcome'] | null) ?? undefined,
        lists: a.lists ? (JSON.parse(a.lists as string) as AuditEntry['lists']) : undefined,
        line: (a.line as number | null) ?? undefined,
        recordKey: (a.record_key as string | null) ?? undefined,
      }),
    );
    return {
      subject,
      suppressed: s
        ? {
            at: s.at,
            kind: s.kind,
            category: s.category ?? undefined,
            reason: s.reason,
            providersDone: JSON.parse(s.providers_done) as string[],
          }
        : undefined,
      softBounces: soft,
      audit,
    };
  }

  async close(): Promise<void> {
    this.db.close();
    this.base?.close();
  }
}

export type { SqliteSuppressionStoreOptions };
export { SqliteSuppressionStore };
