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
import { countSoftBounces, laterReset, type SoftCounting } from '#core/decide/soft-bounce-window.ts';
import { StoreError } from '#core/errors.ts';
import type {
  AuditEntry,
  DeliveryRequest,
  RateCounter,
  SoftBounceRequest,
  SubjectStatus,
  SuppressionOutcome,
  SuppressionRequest,
  SuppressionStore,
} from '#core/ports.ts';
import { SqliteActionOutbox } from './sqlite-action-outbox.ts';

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
CREATE TABLE IF NOT EXISTS soft_resets (
  address TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);
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
CREATE TABLE IF NOT EXISTS rate_counters (
  key TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (key, window_start)
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

/**
 * Columns added after the first release: a state file written by an older version gets them on
 * open. expires_at (ms) marks provisional rows (SuppressionRequest.expiresAt), swept on open.
 */
const ADDED_COLUMNS: ReadonlyArray<readonly [table: string, column: string]> = [
  ['suppressions', 'expires_at INTEGER'],
  ['audit', 'expires_at INTEGER'],
  // The classification rule behind a bounce decision (docs/classification.md).
  ['audit', 'rule TEXT'],
  // Provenance of a suppression (SuppressionRequest.rule/recordType/jobId) for export and undo.
  ['suppressions', 'rule TEXT'],
  ['suppressions', 'record_type TEXT'],
  ['suppressions', 'job_id TEXT'],
];
const EXPIRY_INDEXES = `
CREATE INDEX IF NOT EXISTS suppressions_expiry ON suppressions (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_expiry ON audit (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS rate_counters_expiry ON rate_counters (expires_at);
`;

function addMissingColumns(db: Database.Database): void {
  for (const [table, column] of ADDED_COLUMNS) {
    const name = column.split(' ')[0]!;
    if (!hasColumn(db, table, name)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
  }
  db.exec(EXPIRY_INDEXES);
}

interface SqliteSuppressionStoreOptions {
  /** State file; `:memory:` for tests and dry runs. */
  path: string;
  /** Read-only state consulted underneath (dry run). */
  basePath?: string | undefined;
  /** false: drop audit entries (a dry run's throwaway state has no reader for them). */
  audit?: boolean;
  /** A throwaway file (dry run): no journal, no syncs — nothing to protect, speed matters. */
  scratch?: boolean;
  /** Default FULL (see the constructor); NORMAL only for measuring what FULL costs. */
  synchronous?: 'FULL' | 'NORMAL';
  /** Clock for expiry (provisional rows, rate counters); default Date.now. */
  now?: () => number;
}

type Row = { providers_done: string; expires_at: number | null } | undefined;

function hasTable(db: Database.Database | undefined, name: string): boolean {
  return Boolean(db?.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name));
}

class SqliteSuppressionStore implements SuppressionStore {
  /** bench/process.ts sets NORMAL for its baseline row; the product never changes it. */
  static defaultSynchronous: 'FULL' | 'NORMAL' = 'FULL';
  /** The connection; also read by the ledger in this folder (sqlite-suppression-ledger.ts). */
  readonly db: Database.Database;
  private readonly base: Database.Database | undefined;
  private readonly getSuppression: Database.Statement<[string], NonNullable<Row>>;
  private readonly baseGetSuppression: Database.Statement<[string], NonNullable<Row>> | undefined;
  private readonly now: () => number;
  private readonly insertSuppression: Database.Statement;
  private readonly updateDone: Database.Statement;
  private readonly insertSoft: Database.Statement;
  private readonly softNear: Database.Statement<
    [string, number, number, string],
    { at: number; reset: number }
  >;
  private readonly baseSoftNear: Database.Statement<[string, number, number], { at: number }> | undefined;
  private readonly baseSoftHas: Database.Statement<[string, string], { one: number }> | undefined;
  private readonly insertAudit: Database.Statement;
  private readonly softAny: Database.Statement<[string], { one: number }>;
  private readonly baseSoftAny: Database.Statement<[string], { one: number }> | undefined;
  private readonly baseGetReset: Database.Statement<[string], { at: number }> | undefined;
  private readonly upsertReset: Database.Statement;
  private readonly insertReject: Database.Statement;
  private readonly keepAudit: boolean;
  /** Local mode's outbox on the same connection (core/act/action-outbox.ts). */
  readonly outbox: SqliteActionOutbox;

  constructor(options: SqliteSuppressionStoreOptions) {
    this.keepAudit = options.audit ?? true;
    this.now = options.now ?? (() => Date.now());
    try {
      if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
      this.db = new Database(options.path);
      this.db.pragma(options.scratch ? 'journal_mode = OFF' : 'journal_mode = WAL');
      // FULL: in WAL mode NORMAL may lose the last commits on power loss, and the accounting pipe
      // cannot be replayed; the cost is one WAL fsync per transaction (docs/benchmarks.md).
      this.db.pragma(
        `synchronous = ${options.scratch ? 'OFF' : (options.synchronous ?? SqliteSuppressionStore.defaultSynchronous)}`,
      );
      if (options.scratch) this.db.pragma('locking_mode = EXCLUSIVE');
      // Random-order addresses: a bigger page cache keeps index inserts in memory (bounded: 16 MiB).
      this.db.pragma('cache_size = -16384');
      this.db.exec(SCHEMA);
      addMissingColumns(this.db);
      this.base = options.basePath
        ? new Database(options.basePath, { readonly: true, fileMustExist: true })
        : undefined;
    } catch (error) {
      throw new StoreError(`cannot open state ${options.path}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const get = 'SELECT providers_done, expires_at FROM suppressions WHERE subject = ?';
    this.getSuppression = this.db.prepare(get);
    // An older base file has no expires_at: every row of it is permanent.
    this.baseGetSuppression = this.base?.prepare(
      hasColumn(this.base, 'suppressions', 'expires_at')
        ? get
        : 'SELECT providers_done, NULL AS expires_at FROM suppressions WHERE subject = ?',
    );
    this.insertSuppression = this.db.prepare(
      `INSERT OR REPLACE INTO suppressions
         (subject, at, kind, category, reason, record_key, providers_done, expires_at, rule, record_type, job_id)
       VALUES (@subject, @at, @kind, @category, @reason, @recordKey, @done, @expiresAt, @rule, @recordType, @jobId)`,
    );
    this.updateDone = this.db.prepare('UPDATE suppressions SET providers_done = ? WHERE subject = ?');
    this.insertSoft = this.db.prepare(
      'INSERT OR IGNORE INTO soft_bounces (address, record_key, at) VALUES (?, ?, ?)',
    );
    // The address's last delivery comes back in the same query (reset = 1): one statement per bounce.
    this.softNear = this.db.prepare(
      `SELECT at, 0 AS reset FROM soft_bounces WHERE address = ? AND at >= ? AND at <= ?
       UNION ALL SELECT at, 1 AS reset FROM soft_resets WHERE address = ?`,
    );
    this.baseSoftNear = this.base?.prepare(
      'SELECT at FROM soft_bounces WHERE address = ? AND at >= ? AND at <= ?',
    );
    this.baseSoftHas = this.base?.prepare(
      'SELECT 1 AS one FROM soft_bounces WHERE address = ? AND record_key = ?',
    );
    this.insertAudit = this.db.prepare(
      `INSERT INTO audit (subject, at, type, action, reason, provider, outcome, lists, line, record_key, expires_at, rule)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.softAny = this.db.prepare('SELECT 1 AS one FROM soft_bounces WHERE address = ? LIMIT 1');
    this.baseSoftAny = this.base?.prepare('SELECT 1 AS one FROM soft_bounces WHERE address = ? LIMIT 1');
    this.baseGetReset = hasTable(this.base, 'soft_resets')
      ? this.base?.prepare('SELECT at FROM soft_resets WHERE address = ?')
      : undefined;
    this.upsertReset = this.db.prepare(
      `INSERT INTO soft_resets (address, at) VALUES (?, ?)
       ON CONFLICT (address) DO UPDATE SET at = max(at, excluded.at)`,
    );
    this.insertReject = this.db.prepare(
      'INSERT INTO rejects (at, source, line, reason, raw) VALUES (?, ?, ?, ?, ?)',
    );
    this.outbox = new SqliteActionOutbox(
      this.db,
      (subject) => JSON.parse(this.getSuppression.get(subject)?.providers_done ?? '[]') as string[],
    );
    this.sweepExpired();
  }

  /**
   * Opens a transaction that spans several port calls (several batches of records): one commit
   * for many batches instead of one per port call. Random-order addresses dirty index pages all
   * over the file, and each commit writes every dirtied page again (and, with synchronous=FULL,
   * syncs the WAL), so fewer commits cost far less. The port calls' own transactions nest inside
   * as savepoints. Idempotent.
   */
  openBatch(): void {
    if (!this.db.inTransaction) this.db.exec('BEGIN');
  }

  /** Commits what `openBatch` opened (nothing if none is open). */
  commitBatch(): void {
    if (this.db.inTransaction) this.write('commit', () => this.db.exec('COMMIT'));
  }

  /** The journal and sync settings of this connection (tests, `check`). */
  durability(): { journalMode: string; synchronous: string } {
    const sync = ['off', 'normal', 'full', 'extra'];
    const level = Number(this.db.pragma('synchronous', { simple: true }));
    return {
      journalMode: String(this.db.pragma('journal_mode', { simple: true })).toLowerCase(),
      synchronous: sync[level] ?? String(level),
    };
  }

  /** A write that fails (disk full, read-only file, locked) is the port's StoreError: callers may retry later. */
  private write<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError(`cannot write state (${what}): ${(error as Error).message}`, { cause: error });
    }
  }

  /** A provisional row past its expiry counts as absent (and is replaced by the next insert). */
  private lookup(subject: string): Row {
    const row = this.getSuppression.get(subject) ?? this.baseGetSuppression?.get(subject);
    return row && row.expires_at !== null && row.expires_at <= this.now() ? undefined : row;
  }

  /**
   * Deletes expired provisional suppressions, audit entries and rate counters, and the outbox
   * actions of subjects that are gone: state from unverified input never outlives its expiry.
   * Runs on open; returns the rows deleted.
   */
  sweepExpired(): number {
    const now = this.now();
    const run = this.db.transaction(() => {
      let deleted = 0;
      deleted += this.db.prepare('DELETE FROM suppressions WHERE expires_at <= ?').run(now).changes;
      deleted += this.db.prepare('DELETE FROM audit WHERE expires_at <= ?').run(now).changes;
      deleted += this.db.prepare('DELETE FROM rate_counters WHERE expires_at <= ?').run(now).changes;
      deleted += this.db
        .prepare(
          `DELETE FROM outbox WHERE json_extract(action, '$.unverifiedUntil') <= ?
             AND subject NOT IN (SELECT subject FROM suppressions)`,
        )
        .run(now).changes;
      return deleted;
    });
    return run();
  }

  /** A provider vouched for the subject: its suppression and audit trail stop expiring. */
  async confirm(subject: string): Promise<void> {
    const run = this.db.transaction(() => {
      this.db.prepare('UPDATE suppressions SET expires_at = NULL WHERE subject = ?').run(subject);
      this.db
        .prepare('UPDATE audit SET expires_at = NULL WHERE subject = ? AND expires_at IS NOT NULL')
        .run(subject);
    });
    run();
  }

  /** The RateCounter port (core/unsubscribe/unsubscribe-rate-limit.ts) on this state file. */
  rateCounter(): RateCounter {
    const upsert = this.db.prepare(
      `INSERT INTO rate_counters (key, window_start, count, expires_at) VALUES (?, ?, 1, ?)
       ON CONFLICT (key, window_start) DO UPDATE SET count = count + 1 RETURNING count`,
    );
    const run = this.db.transaction((keys: readonly string[], windowStart: number, expiresAt: number) =>
      keys.map((key) => (upsert.get(key, windowStart, expiresAt) as { count: number }).count),
    );
    return { increment: async (keys, windowStart, expiresAt) => run(keys, windowStart, expiresAt) };
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
            done: JSON.stringify([...(r.providersDone ?? [])].sort()),
            expiresAt: r.expiresAt ?? null,
            rule: r.rule ?? null,
            recordType: r.recordType ?? null,
            jobId: r.jobId ?? null,
          });
          insertedNow.add(r.subject);
          const settled = new Set(r.providersDone ?? []);
          return {
            subject: r.subject,
            state: 'new',
            pendingProviders: r.providers.filter((p) => !settled.has(p)),
          };
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
    return this.write('suppress', () => run(requests));
  }

  async recordSoftBounces(
    requests: readonly SoftBounceRequest[],
    counting: SoftCounting | number,
  ): Promise<number[]> {
    const windowMs = typeof counting === 'number' ? counting : counting.windowMs;
    const run = this.db.transaction((reqs: readonly SoftBounceRequest[]) =>
      reqs.map((r) => {
        // Over a base file (dry run), a record it holds already is not counted twice.
        if (!this.baseSoftHas?.get(r.address, r.recordKey)) this.insertSoft.run(r.address, r.recordKey, r.at);
        const range = [r.address, r.at - windowMs, r.at + windowMs] as const;
        const near: number[] = [];
        let resetAt = r.resetAt;
        for (const row of this.softNear.all(...range, r.address)) {
          if (row.reset === 1) resetAt = laterReset(resetAt, row.at);
          else near.push(row.at);
        }
        if (this.base) {
          for (const row of this.baseSoftNear?.all(...range) ?? []) near.push(row.at);
          resetAt = laterReset(resetAt, this.baseGetReset?.get(r.address)?.at);
        }
        return countSoftBounces(near, r.at, counting, resetAt);
      }),
    );
    return this.write('soft bounces', () => run(requests));
  }

  async recordDeliveries(deliveries: readonly DeliveryRequest[]): Promise<void> {
    const run = this.db.transaction((items: readonly DeliveryRequest[]) => {
      for (const d of items) {
        if (!this.softAny.get(d.address) && !this.baseSoftAny?.get(d.address)) continue;
        this.upsertReset.run(d.address, d.at);
      }
    });
    run(deliveries);
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
    this.write('provider outcome', run);
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
          e.expiresAt ?? null,
          e.rule ?? null,
        );
      }
    });
    this.write('audit', () => run(entries));
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

  /** The outbox (core/act/action-outbox.ts): written before the provider calls. */
  enqueueActions(actions: readonly Action[]): void {
    this.write('outbox', () => this.outbox.enqueue(actions));
  }

  completeAction(subject: string): void {
    this.write('outbox', () => this.outbox.complete(subject));
  }

  /** Actions left by earlier runs, each narrowed to the providers not done (nor parked) yet. */
  pendingActions(): Action[] {
    return this.outbox.pending();
  }

  async status(subject: string): Promise<SubjectStatus> {
    const s = this.db
      .prepare(
        'SELECT at, kind, category, reason, providers_done, expires_at FROM suppressions WHERE subject = ?',
      )
      .get(subject) as
      | {
          at: number;
          kind: string;
          category: string | null;
          reason: string;
          providers_done: string;
          expires_at: number | null;
        }
      | undefined;
    const now = this.now();
    const live = s && (s.expires_at === null || s.expires_at > now) ? s : undefined;
    const soft = this.db
      .prepare('SELECT at, record_key AS recordKey FROM soft_bounces WHERE address = ? ORDER BY at')
      .all(subject) as Array<{ at: number; recordKey: string }>;
    const audit = (
      this.db
        .prepare(
          'SELECT subject, at, type, action, reason, provider, outcome, lists, line, record_key, expires_at, rule FROM audit WHERE subject = ? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id',
        )
        .all(subject, now) as Array<Record<string, unknown>>
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
        ...(a.expires_at === null ? {} : { expiresAt: a.expires_at as number }),
        ...(a.rule === null ? {} : { rule: a.rule as string }),
      }),
    );
    return {
      subject,
      suppressed: live
        ? {
            at: live.at,
            kind: live.kind,
            category: live.category ?? undefined,
            reason: live.reason,
            providersDone: JSON.parse(live.providers_done) as string[],
            ...(live.expires_at === null ? {} : { expiresAt: live.expires_at }),
          }
        : undefined,
      softBounces: soft,
      audit,
    };
  }

  /** An open batch that was not committed is rolled back: as if the run stopped before it. */
  async close(): Promise<void> {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.db.close();
    this.base?.close();
  }
}

function hasColumn(db: Database.Database, table: string, column: string): boolean {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
  return columns.some((c) => c.name === column);
}

export type { SqliteSuppressionStoreOptions };
export { SqliteSuppressionStore };
