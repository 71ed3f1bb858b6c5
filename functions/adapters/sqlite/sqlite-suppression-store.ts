/**
 * SuppressionStore on SQLite (local mode, the embedded default). better-sqlite3 is synchronous:
 * each port call is one transaction, so a batch of thousands of records costs one fsync.
 * With `base`, the store is an overlay for --dry-run: reads also consult the real state file
 * (opened read-only), writes stay in memory and vanish.
 */
import { randomInt } from 'node:crypto';
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
import { AuditThread } from './sqlite-audit-thread.ts';
import { SqliteAuditTrail } from './sqlite-audit-trail.ts';
import { decisionFilePath } from './sqlite-decision-file.ts';
import {
  hasColumn,
  hashedSoftBounces,
  hasTable,
  prepareStateSchema,
  recordKeyHash,
  recordKeyLabel,
  SUPPRESSION_REASON,
} from './sqlite-state-schema.ts';
import { StateTexts } from './sqlite-state-texts.ts';

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
  /**
   * `process`: once this many decision entries were written in open batches, hand the following
   * ones to the audit thread (sqlite-audit-thread.ts). Undefined: never (every other command).
   */
  auditThreadAfter?: number | undefined;
}

type Row = { providers_done: string; expires_at: number | null } | undefined;

/** A soft bounce's key in the base: its record key's hash, or the text in a file not migrated yet. */
type BaseSoftKey = number | string;

interface BaseReads {
  getSuppression: Database.Statement<[string], NonNullable<Row>>;
  /** A record key as the base's soft_bounces stores it (compare keys only in this form). */
  softKey: (recordKey: string) => BaseSoftKey;
  softHas: Database.Statement<[string, BaseSoftKey], { one: number }> | undefined;
  softNear: Database.Statement<[string, number, number], { at: number; key: BaseSoftKey }> | undefined;
  softAny: Database.Statement<[string], { one: number }> | undefined;
  getReset: Database.Statement<[string], { at: number }> | undefined;
}

/**
 * A dry run's base is opened read-only, so it is read in whichever layout it has (not migrated).
 * Shared by this store's overlay mode and the dry run's in-memory store (dry-run-*.ts).
 */
function prepareBaseReads(base: Database.Database): BaseReads {
  // An older base file has no expires_at: every row of it is permanent.
  const expiring = hasColumn(base, 'suppressions', 'expires_at');
  // soft_bounces is keyed by the record key's hash, or (a file not migrated yet) by its text.
  const soft = hasTable(base, 'soft_bounces') ? 'soft_bounces' : undefined;
  const hashed = hashedSoftBounces(base);
  const key = hashed ? 'record_hash' : 'record_key';
  return {
    getSuppression: base.prepare(
      `SELECT providers_done, ${expiring ? 'expires_at' : 'NULL AS expires_at'} FROM suppressions WHERE subject = ?`,
    ),
    softKey: hashed ? recordKeyHash : (recordKey) => recordKey,
    softHas: soft ? base.prepare(`SELECT 1 AS one FROM ${soft} WHERE address = ? AND ${key} = ?`) : undefined,
    softNear: soft
      ? base.prepare(`SELECT at, ${key} AS key FROM ${soft} WHERE address = ? AND at >= ? AND at <= ?`)
      : undefined,
    softAny: soft ? base.prepare(`SELECT 1 AS one FROM ${soft} WHERE address = ? LIMIT 1`) : undefined,
    getReset: hasTable(base, 'soft_resets')
      ? base.prepare('SELECT at FROM soft_resets WHERE address = ?')
      : undefined,
  };
}

/** The state connection's page cache, KiB (PRAGMA cache_size takes a negative number of KiB). */
const STATE_CACHE_KIB = 4096;
/** A dry run's scratch file (what its memory tables cannot hold) needs less: a preview. */
const SCRATCH_CACHE_KIB = 2048;

class SqliteSuppressionStore implements SuppressionStore {
  /** bench/process.ts sets NORMAL for its baseline row; the product never changes it. */
  static defaultSynchronous: 'FULL' | 'NORMAL' = 'FULL';
  /** The connection; also read by the ledger in this folder (sqlite-suppression-ledger.ts). */
  readonly db: Database.Database;
  private readonly base: Database.Database | undefined;
  private readonly getSuppression: Database.Statement<[string], NonNullable<Row>>;
  /** The read-only base's statements (dry run), for whichever layout it was written in. */
  private readonly baseReads: BaseReads | undefined;
  private readonly texts: StateTexts;
  private readonly now: () => number;
  private readonly insertSuppression: Database.Statement;
  private readonly insertIfNew: Database.Statement;
  private readonly updateDone: Database.Statement;
  private readonly insertSoft: Database.Statement;
  private readonly softNear: Database.Statement<
    [string, number, number, string],
    { at: number; reset: number }
  >;
  private readonly auditTrail: SqliteAuditTrail;
  private readonly softAny: Database.Statement<[string], { one: number }>;
  /** The times alone (pluck: no row objects), for the common case without resets. */
  private readonly softOnly: Database.Statement<[string, number, number], number>;
  private readonly anyReset: Database.Statement<[], { one: number }>;
  /** Whether soft_resets has any row, as seen by the current transaction (undefined: not asked yet). */
  private resetsStored: boolean | undefined;
  private readonly upsertReset: Database.Statement;
  private readonly insertReject: Database.Statement;
  private readonly keepAudit: boolean;
  /** Local mode's outbox on the same connection (core/act/action-outbox.ts). */
  readonly outbox: SqliteActionOutbox;
  readonly #threadAfter: number | undefined;
  /** Decision entries written in open batches so far (counts toward `auditThreadAfter`). */
  #decisionsWritten = 0;
  #auditThread: AuditThread | undefined;
  /** The open batch's id in the decision file, once it handed the thread a row. */
  #threadBatch: number | undefined;
  #lastAuditSeq!: Database.Statement<[], number | null>;
  #nameBatch!: Database.Statement<[number]>;

  constructor(options: SqliteSuppressionStoreOptions) {
    this.keepAudit = options.audit ?? true;
    this.#threadAfter =
      options.path === ':memory:' || options.basePath ? undefined : options.auditThreadAfter;
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
      // Random-order addresses: the page cache holds the hot index pages. 4 MiB, not 16: the soft
      // bounces' keys are hashes now and the peak RSS goal is 100 MB (docs/benchmarks.md).
      this.db.pragma(`cache_size = -${options.scratch ? SCRATCH_CACHE_KIB : STATE_CACHE_KIB}`);
      prepareStateSchema(this.db);
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
    this.baseReads = this.base ? prepareBaseReads(this.base) : undefined;
    this.texts = new StateTexts(this.db);
    this.insertSuppression = this.db.prepare(
      `INSERT OR REPLACE INTO suppressions
         (subject, at, kind, category, reason, reason_id, record_key, providers_done, expires_at, rule, record_type, job_id)
       VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertIfNew = this.db.prepare(
      `INSERT OR IGNORE INTO suppressions
         (subject, at, kind, category, reason, reason_id, record_key, providers_done, expires_at, rule, record_type, job_id)
       VALUES (?, ?, ?, ?, '', ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.updateDone = this.db.prepare('UPDATE suppressions SET providers_done = ? WHERE subject = ?');
    this.insertSoft = this.db.prepare(
      'INSERT OR IGNORE INTO soft_bounces (address, record_hash, at) VALUES (?, ?, ?)',
    );
    // The address's last delivery comes back in the same query (reset = 1): one statement per bounce.
    this.softNear = this.db.prepare(
      `SELECT at, 0 AS reset FROM soft_bounces WHERE address = ? AND at >= ? AND at <= ?
       UNION ALL SELECT at, 1 AS reset FROM soft_resets WHERE address = ?`,
    );
    this.auditTrail = new SqliteAuditTrail(this.db, this.texts);
    this.softOnly = this.db
      .prepare<[string, number, number], number>(
        'SELECT at FROM soft_bounces WHERE address = ? AND at >= ? AND at <= ?',
      )
      .pluck();
    this.anyReset = this.db.prepare('SELECT 1 AS one FROM soft_resets LIMIT 1');
    this.softAny = this.db.prepare('SELECT 1 AS one FROM soft_bounces WHERE address = ? LIMIT 1');
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
    this.#lastAuditSeq = this.db.prepare<[], number | null>('SELECT max(seq) FROM audit_trail').pluck();
    this.#nameBatch = this.db.prepare('INSERT OR IGNORE INTO audit_batches (batch) VALUES (?)');
  }

  /**
   * Opens a transaction that spans several port calls (several batches of records): one commit
   * for many batches instead of one per port call. Random-order addresses dirty index pages all
   * over the file, and each commit writes every dirtied page again (and, with synchronous=FULL,
   * syncs the WAL), so fewer commits cost far less. The port calls run inside it without
   * savepoints (`atomically`); one that fails discards the batch. Idempotent.
   */
  openBatch(): void {
    if (!this.db.inTransaction) this.db.exec('BEGIN');
  }

  /** Commits what `openBatch` opened (nothing if none is open). */
  commitBatch(): void {
    if (this.db.inTransaction)
      this.write('commit', () => {
        this.sealThreadBatch();
        this.db.exec('COMMIT');
      });
    this.resetsStored = undefined;
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

  /**
   * A port call's writes. Alone: in a transaction of its own. Inside an open batch: as part of it,
   * without the savepoint better-sqlite3 would nest — a savepoint copies every page it touches to a
   * statement journal first (for 300k records ~670,000 page writes to temp files,
   * docs/benchmarks.md). A call that fails there rolls the whole uncommitted batch back, as a crash
   * would: nothing partial is ever committed.
   */
  private atomically<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T {
    return (...args: A): T => {
      if (!this.db.inTransaction) return this.db.transaction(fn)(...args);
      try {
        return fn(...args);
      } catch (error) {
        this.rollBackBatch();
        throw error;
      }
    };
  }

  /**
   * Before the commit: waits until the audit thread made the batch's decision rows durable, then
   * names the batch in the same transaction as the decisions (sqlite-decision-file.ts).
   */
  private sealThreadBatch(): void {
    const batch = this.#threadBatch;
    if (batch === undefined) return;
    this.#threadBatch = undefined;
    try {
      this.#auditThread!.sync(batch);
    } catch (error) {
      this.rollBackBatch();
      throw error;
    }
    this.#nameBatch.run(batch);
  }

  /** Discards the open batch (after a failed write in it). */
  private rollBackBatch(): void {
    if (this.db.inTransaction) this.db.exec('ROLLBACK');
    this.texts.forget();
    this.resetsStored = undefined;
    // Rows already handed to the thread stay in the decision file, never named: invisible.
    this.#threadBatch = undefined;
  }

  /** A write that fails (disk full, read-only file, locked) is the port's StoreError: callers may retry later. */
  private write<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      // A failed transaction was rolled back, with any text it added (sqlite-state-texts.ts).
      this.texts.forget();
      if (error instanceof StoreError) throw error;
      throw new StoreError(`cannot write state (${what}): ${(error as Error).message}`, { cause: error });
    }
  }

  /** A provisional row past its expiry counts as absent (and is replaced by the next insert). */
  private lookup(subject: string): Row {
    const row = this.getSuppression.get(subject) ?? this.baseReads?.getSuppression.get(subject);
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
      // The newest entry is blanked, not deleted: its seq is never handed out again, so decision-file
      // rows placed after it (after_seq, sqlite-decision-file.ts) keep their place in the trail.
      deleted += this.db
        .prepare('DELETE FROM audit_trail WHERE expires_at <= ? AND seq < (SELECT max(seq) FROM audit_trail)')
        .run(now).changes;
      deleted += this.db
        .prepare(
          `UPDATE audit_trail SET subject = '', subject_hash = 0, provider = NULL, outcome = NULL, lists = NULL,
             line = NULL, record_key = NULL WHERE expires_at <= ? AND subject <> ''`,
        )
        .run(now).changes;
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
      this.auditTrail.keep(subject);
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

  /** The columns of a new suppression row, in the insert statements' order. */
  private suppressionRow(r: SuppressionRequest): unknown[] {
    return [
      r.subject,
      r.at,
      r.kind,
      r.category ?? null,
      this.texts.id(r.reason),
      recordKeyHash(r.recordKey),
      r.providersDone ? JSON.stringify([...r.providersDone].sort()) : '[]',
      r.expiresAt ?? null,
      r.rule ?? null,
      r.recordType ?? null,
      r.jobId ?? null,
    ];
  }

  /**
   * Without a base, a new subject is found by inserting it (INSERT OR IGNORE: one index probe
   * instead of a lookup and then an insert); a subject already there is then looked up. A row
   * that has expired is replaced (INSERT OR REPLACE), as is every new row over a base.
   */
  async suppress(requests: readonly SuppressionRequest[]): Promise<SuppressionOutcome[]> {
    const run = this.atomically((reqs: readonly SuppressionRequest[]) => {
      const insertedNow = new Set<string>();
      return reqs.map((r): SuppressionOutcome => {
        // A second record for a subject suppressed earlier in this same batch adds nothing.
        if (insertedNow.has(r.subject)) return { subject: r.subject, state: 'already', pendingProviders: [] };
        const fresh = !this.baseReads && this.insertIfNew.run(...this.suppressionRow(r)).changes === 1;
        const existing = fresh ? undefined : this.lookup(r.subject);
        if (!existing) {
          if (!fresh) this.insertSuppression.run(...this.suppressionRow(r));
          insertedNow.add(r.subject);
          const settled = r.providersDone;
          return {
            subject: r.subject,
            state: 'new',
            pendingProviders: settled ? r.providers.filter((p) => !settled.includes(p)) : [...r.providers],
          };
        }
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
    // A transaction of its own: other connections may have written since the last one.
    if (!this.db.inTransaction) this.resetsStored = undefined;
    const run = this.atomically((reqs: readonly SoftBounceRequest[]) =>
      reqs.map((r) => {
        // Over a base file (dry run), a record it holds already is not counted twice.
        const base = this.baseReads;
        if (!base?.softHas?.get(r.address, base.softKey(r.recordKey)))
          this.insertSoft.run(r.address, recordKeyHash(r.recordKey), r.at);
        const range = [r.address, r.at - windowMs, r.at + windowMs] as const;
        let resetAt = r.resetAt;
        // Without any delivery stored (the common case) the resets need no lookup.
        this.resetsStored ??= this.anyReset.get() !== undefined;
        const near: number[] = this.resetsStored ? [] : this.softOnly.all(...range);
        if (this.resetsStored)
          for (const row of this.softNear.all(...range, r.address)) {
            if (row.reset === 1) resetAt = laterReset(resetAt, row.at);
            else near.push(row.at);
          }
        if (base) {
          for (const row of base.softNear?.all(...range) ?? []) near.push(row.at);
          resetAt = laterReset(resetAt, base.getReset?.get(r.address)?.at);
        }
        return countSoftBounces(near, r.at, counting, resetAt);
      }),
    );
    return this.write('soft bounces', () => run(requests));
  }

  async recordDeliveries(deliveries: readonly DeliveryRequest[]): Promise<void> {
    const run = this.atomically((items: readonly DeliveryRequest[]) => {
      for (const d of items) {
        if (!this.softAny.get(d.address) && !this.baseReads?.softAny?.get(d.address)) continue;
        this.upsertReset.run(d.address, d.at);
        this.resetsStored = true;
      }
    });
    run(deliveries);
  }

  async markProvider(subject: string, provider: string, outcome: 'done' | 'failed'): Promise<void> {
    if (outcome !== 'done') return;
    const run = this.atomically(() => {
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
    if (this.threadTakes(entries)) {
      this.write('audit', () => this.handToThread(entries));
      return;
    }
    if (this.#threadAfter !== undefined && this.db.inTransaction) this.#decisionsWritten += entries.length;
    const run = this.atomically((items: readonly AuditEntry[]) => {
      for (const e of items) this.auditTrail.append(e);
    });
    this.write('audit', () => run(entries));
  }

  /** Whether these entries go to the audit thread: all decisions, in an open batch, past the threshold. */
  private threadTakes(entries: readonly AuditEntry[]): boolean {
    if (this.#threadAfter === undefined || !this.db.inTransaction) return false;
    if (this.#decisionsWritten < this.#threadAfter) return false;
    return entries.every(SqliteAuditTrail.isDecision);
  }

  /** Encodes in this transaction (text ids), then hands the rows over without waiting. */
  private handToThread(entries: readonly AuditEntry[]): void {
    this.#auditThread ??= new AuditThread(decisionFilePath(this.db.name));
    // A random id: two processes on one state never share one (sqlite-decision-file.ts).
    this.#threadBatch ??= randomInt(1, 2 ** 47);
    const afterSeq = this.#lastAuditSeq.get() ?? 0;
    this.#auditThread.append(this.#threadBatch, afterSeq, this.auditTrail.encode(entries));
  }

  /** Malformed records, kept with their raw text so an operator can fix and replay them. */
  recordRejects(
    rejects: ReadonlyArray<{ line: number; raw: string; reason: string }>,
    source: string,
    at: number,
  ): void {
    const run = this.atomically(() => {
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
        `SELECT at, kind, category, ${SUPPRESSION_REASON} AS reason, providers_done, expires_at FROM suppressions WHERE subject = ?`,
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
      .prepare('SELECT at, record_hash AS hash FROM soft_bounces WHERE address = ? ORDER BY at, record_hash')
      .all(subject) as Array<{ at: number; hash: number }>;
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
      softBounces: soft.map((b) => ({ at: b.at, recordKey: recordKeyLabel(b.hash) })),
      audit: this.auditTrail.entries(subject, now),
    };
  }

  /** An open batch that was not committed is rolled back: as if the run stopped before it. */
  async close(): Promise<void> {
    if (this.db.inTransaction) this.rollBackBatch();
    await this.#auditThread?.close();
    this.db.close();
    this.base?.close();
  }
}

export type { BaseReads, BaseSoftKey, SqliteSuppressionStoreOptions };
export { prepareBaseReads, SqliteSuppressionStore };
