/**
 * SuppressionStore for `process --dry-run`: what this run decides lives in memory (nothing is
 * written anywhere), and what earlier runs decided is read from the real state file, opened
 * read-only, if there is one. Same answers as the SQLite store for the same calls, so a dry run
 * reports what the real run would do.
 *
 * Memory is bounded: past `limit` subjects and soft-bounced addresses, new ones go to a scratch
 * SQLite file (no journal, no syncs, deleted at close) and the ones in memory stay there. In memory,
 * compactly: a
 * subject costs its address string and one set slot; a soft bounce three numbers in one pool (its
 * record key as a 53-bit hash, which only ever meets the few other keys of the same address, its
 * time, and a link to the address's previous one).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Action } from '#core/act/action.ts';
import type { ActionOutbox } from '#core/act/action-outbox.ts';
import { softBouncesInWindow } from '#core/decide/soft-bounce-window.ts';
import { StoreError } from '#core/errors.ts';
import type {
  AuditEntry,
  SoftBounceRequest,
  SubjectStatus,
  SuppressionOutcome,
  SuppressionRequest,
  SuppressionStore,
} from '#core/suppression-store.ts';
import type { RateCounter } from '#core/unsubscribe/unsubscribe-rate-limit.ts';
import { SqliteSuppressionStore } from './sqlite-suppression-store.ts';

/** Providers done for a subject; one shared empty list for every subject this run suppressed. */
type Done = readonly string[];
const NONE_DONE: Done = Object.freeze([]);
/** Subjects plus soft-bounced addresses kept in memory: 200,000 measured ~40 MB more peak RSS at 1M records (docs/benchmarks.md). */
const DEFAULT_LIMIT = 100_000;

/** cyrb53: a well-mixed 53-bit string hash (two 32-bit lanes). */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

class DryRunSuppressionStore implements SuppressionStore {
  private readonly base: Database.Database | undefined;
  private readonly baseSuppression:
    | Database.Statement<[string], { providers_done: string; expires_at: number | null }>
    | undefined;
  private readonly baseSoftNear: Database.Statement<[string, number, number], { at: number }> | undefined;
  /** Subjects this run suppressed (no provider is ever done in a dry run). */
  private readonly suppressed = new Set<string>();
  /** Of those, the provisional ones (SuppressionRequest.expiresAt) with their expiry. */
  private readonly provisional = new Map<string, number>();
  private readonly now: () => number;
  /** Per address: the index of its latest soft bounce in `pool`. */
  private readonly softHead = new Map<string, number>();
  /** Soft bounces, three numbers each: record-key hash, time, index of the address's previous one (-1). */
  private pool = new Float64Array(3 * 4096);
  private poolUsed = 0;

  private readonly basePath: string | undefined;
  private readonly limit: number;
  /** Where subjects and addresses beyond `limit` go (created when first needed). */
  private scratch: { dir: string; store: SqliteSuppressionStore } | undefined;

  /** `basePath`: the real state file, if it exists (read, never written). */
  constructor(options: { basePath?: string | undefined; limit?: number; now?: () => number } = {}) {
    this.basePath = options.basePath;
    this.now = options.now ?? (() => Date.now());
    this.limit = options.limit ?? DEFAULT_LIMIT;
    try {
      this.base = this.basePath
        ? new Database(this.basePath, { readonly: true, fileMustExist: true })
        : undefined;
    } catch (error) {
      throw new StoreError(`cannot open state ${this.basePath}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    // An older state file has no expires_at: every row of it is permanent.
    const expiring = (
      this.base?.prepare('PRAGMA table_info(suppressions)').all() as Array<{ name: string }>
    )?.some((c) => c.name === 'expires_at');
    this.baseSuppression = this.base?.prepare(
      `SELECT providers_done, ${expiring ? 'expires_at' : 'NULL AS expires_at'} FROM suppressions WHERE subject = ?`,
    );
    this.baseSoftNear = this.base?.prepare(
      'SELECT at FROM soft_bounces WHERE address = ? AND at >= ? AND at <= ?',
    );
  }

  /** The scratch store once memory holds `limit` entries; undefined while memory has room. */
  private overflow(): SqliteSuppressionStore | undefined {
    if (!this.scratch && this.suppressed.size + this.softHead.size >= this.limit) {
      const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-dry-run-'));
      const store = new SqliteSuppressionStore({
        path: join(dir, 'state.db'),
        audit: false,
        scratch: true,
        basePath: this.basePath,
      });
      store.openBatch();
      this.scratch = { dir, store };
    }
    return this.scratch?.store;
  }

  /** Known to memory or the real state; a subject in the scratch store reads as unknown here. */
  private lookup(subject: string): Done | undefined {
    if (this.suppressed.has(subject)) {
      const expiresAt = this.provisional.get(subject);
      if (expiresAt === undefined || expiresAt > this.now()) return NONE_DONE;
      this.suppressed.delete(subject);
      this.provisional.delete(subject);
    }
    if (this.scratch) return undefined;
    const row = this.baseSuppression?.get(subject);
    if (!row || (row.expires_at !== null && row.expires_at <= this.now())) return undefined;
    return JSON.parse(row.providers_done) as string[];
  }

  async suppress(requests: readonly SuppressionRequest[]): Promise<SuppressionOutcome[]> {
    const insertedNow = new Set<string>();
    const out: SuppressionOutcome[] = [];
    // Subjects not in memory once memory is full: decided by the scratch store, in one call.
    const spilled: number[] = [];
    for (const r of requests) {
      const done = this.lookup(r.subject);
      if (done === undefined && !insertedNow.has(r.subject) && this.overflow()) {
        spilled.push(out.length);
        out.push({ subject: r.subject, state: 'already', pendingProviders: [] });
      } else if (insertedNow.has(r.subject)) {
        // A second record for a subject suppressed earlier in this same batch adds nothing.
        out.push({ subject: r.subject, state: 'already', pendingProviders: [] });
      } else if (done === undefined) {
        this.suppressed.add(r.subject);
        if (r.expiresAt !== undefined) this.provisional.set(r.subject, r.expiresAt);
        insertedNow.add(r.subject);
        out.push({ subject: r.subject, state: 'new', pendingProviders: [...r.providers] });
      } else {
        const pendingProviders = r.providers.filter((p) => !done.includes(p));
        const state = pendingProviders.length > 0 ? 'pending' : 'already';
        out.push({ subject: r.subject, state, pendingProviders });
      }
    }
    if (spilled.length > 0) {
      const decided = await this.scratch!.store.suppress(spilled.map((i) => requests[i]!));
      spilled.forEach((i, k) => {
        out[i] = decided[k]!;
      });
    }
    return out;
  }

  async recordSoftBounces(requests: readonly SoftBounceRequest[], windowMs: number): Promise<number[]> {
    const out: number[] = [];
    const spilled: number[] = [];
    for (const r of requests) {
      const key = hash53(r.recordKey);
      const head = this.softHead.get(r.address);
      if (head === undefined && this.overflow()) {
        spilled.push(out.length);
        out.push(0);
        continue;
      }
      const near: number[] = [];
      let seen = false;
      for (let i = head ?? -1; i !== -1; i = this.pool[i + 2]!) {
        if (this.pool[i] === key) seen = true;
        near.push(this.pool[i + 1]!);
      }
      if (!seen) {
        this.softHead.set(r.address, this.append(key, r.at, head ?? -1));
        near.push(r.at);
      }
      for (const row of this.baseSoftNear?.all(r.address, r.at - windowMs, r.at + windowMs) ?? [])
        near.push(row.at);
      out.push(softBouncesInWindow(near, r.at, windowMs));
    }
    if (spilled.length > 0) {
      const asHashed = spilled.map((i) => ({
        ...requests[i]!,
        recordKey: String(hash53(requests[i]!.recordKey)),
      }));
      const counts = await this.scratch!.store.recordSoftBounces(asHashed, windowMs);
      spilled.forEach((i, k) => {
        out[i] = counts[k]!;
      });
    }
    return out;
  }

  private append(key: number, at: number, previous: number): number {
    if (this.poolUsed + 3 > this.pool.length) {
      const grown = new Float64Array(this.pool.length * 2);
      grown.set(this.pool);
      this.pool = grown;
    }
    const i = this.poolUsed;
    this.pool[i] = key;
    this.pool[i + 1] = at;
    this.pool[i + 2] = previous;
    this.poolUsed += 3;
    return i;
  }

  /** A provisional subject of this run becomes permanent (the real state is never written). */
  async confirm(subject: string): Promise<void> {
    this.provisional.delete(subject);
    await this.scratch?.store.confirm(subject);
  }

  /** A dry run calls no provider. */
  async markProvider(): Promise<void> {}

  /** A dry run keeps no audit: its report is the record of what it would do. */
  async appendAudit(_entries: readonly AuditEntry[]): Promise<void> {}

  recordRejects(): void {}

  /** A dry run queues nothing: its outbox is always empty. */
  readonly outbox: ActionOutbox = {
    enqueue: () => {},
    complete: () => {},
    park: () => {},
    pending: (): Action[] => [],
    summary: () => ({ pending: 0, parkedActions: 0, parked: [] }),
    parkedFor: () => [],
  };

  /** Counts in memory (a dry run handles no inbound mail, but the type asks for one). */
  rateCounter(): RateCounter {
    const counts = new Map<string, number>();
    return {
      increment: async (keys, windowStart) =>
        keys.map((key) => {
          const k = `${key}|${windowStart}`;
          const n = (counts.get(k) ?? 0) + 1;
          counts.set(k, n);
          return n;
        }),
    };
  }

  /** Only the scratch file (if any) has something to commit. */
  openBatch(): void {
    this.scratch?.store.openBatch();
  }

  commitBatch(): void {
    this.scratch?.store.commitBatch();
  }

  async status(subject: string): Promise<SubjectStatus> {
    const done = this.lookup(subject);
    if (done === undefined && this.scratch) return this.scratch.store.status(subject);
    return {
      subject,
      suppressed:
        done === undefined
          ? undefined
          : { at: 0, kind: 'unknown', reason: 'dry run', providersDone: [...done] },
      softBounces: [],
      audit: [],
    };
  }

  async close(): Promise<void> {
    this.base?.close();
    if (this.scratch) {
      await this.scratch.store.close();
      rmSync(this.scratch.dir, { recursive: true, force: true });
    }
  }
}

export { DryRunSuppressionStore, hash53 };
