/**
 * SuppressionStore for `process --dry-run`: nothing is written to the real state file, which is
 * only read (opened read-only) if there is one. Same answers as the SQLite store for the same
 * calls, so a dry run reports what the real run would do.
 *
 * Suppressions, one per record that unsubscribes, are kept in memory (a subject costs its address
 * string and one set slot: the dry run's main saving against SQLite); past `limit` subjects the
 * new ones go to a scratch SQLite file (no journal, no syncs, deleted at close), so memory stays
 * bounded. Soft bounces and the deliveries that reset them are counted in memory the same way
 * (dry-run-soft-bounces.ts), up to the same limit of addresses; the rest in the scratch file with
 * the real store's own statements (docs/benchmarks.md).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Action } from '#core/act/action.ts';
import type { SoftCounting } from '#core/decide/soft-bounce-window.ts';
import { StoreError } from '#core/errors.ts';
import type {
  ActionOutbox,
  AuditEntry,
  DeliveryRequest,
  RateCounter,
  SoftBounceRequest,
  SubjectStatus,
  SuppressionOutcome,
  SuppressionRequest,
  SuppressionStore,
} from '#core/ports.ts';
import { AddressTable } from './dry-run-address-table.ts';
import { DryRunSoftBounces } from './dry-run-soft-bounces.ts';
import { type BaseReads, prepareBaseReads, SqliteSuppressionStore } from './sqlite-suppression-store.ts';

/** Providers done for a subject; one shared empty list for every subject this run suppressed. */
type Done = readonly string[];
const NONE_DONE: Done = Object.freeze([]);
/**
 * Suppressed subjects, and soft-bounced addresses, held in memory (as digests: at most 4 MB and
 * 16 MB of typed arrays at this limit); past it, the scratch file. 250,000, not 500,000: a 3M-record
 * file's dry run stays under 100 MB of peak RSS (docs/benchmarks.md); a 300k one never spills.
 */
const DEFAULT_LIMIT = 250_000;

class DryRunSuppressionStore implements SuppressionStore {
  private readonly base: Database.Database | undefined;
  /** The real state's reads, in whichever layout it was written (sqlite-suppression-store.ts). */
  private readonly baseReads: BaseReads | undefined;
  /** Subjects this run suppressed for good (no provider is ever done in a dry run), by digest. */
  private readonly suppressed: AddressTable;
  /** Subjects it suppressed provisionally (SuppressionRequest.expiresAt), with their expiry. */
  private readonly provisional = new Map<string, number>();
  private readonly now: () => number;

  private readonly basePath: string | undefined;
  private readonly limit: number;
  /** Where subjects and addresses beyond `limit` go (created when first needed). */
  private scratch: { dir: string; store: SqliteSuppressionStore } | undefined;
  /** Soft bounces of up to `limit` addresses; the rest in the scratch file. */
  private readonly soft: DryRunSoftBounces;

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
    this.baseReads = this.base ? prepareBaseReads(this.base) : undefined;
    this.soft = new DryRunSoftBounces(this.baseReads, this.limit);
    this.suppressed = new AddressTable(this.limit);
  }

  /** The scratch file, created when first needed. */
  private scratchStore(): SqliteSuppressionStore {
    if (!this.scratch) {
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
    return this.scratch.store;
  }

  /** The scratch store once memory holds `limit` subjects; undefined while memory has room. */
  private overflow(): SqliteSuppressionStore | undefined {
    return this.suppressed.full ? this.scratchStore() : undefined;
  }

  /** Known to memory or the real state; a subject in the scratch store reads as unknown here. */
  private lookup(subject: string): Done | undefined {
    const expiresAt = this.provisional.get(subject);
    if (expiresAt !== undefined) {
      if (expiresAt > this.now()) return NONE_DONE;
      this.provisional.delete(subject);
    }
    if (this.suppressed.find(subject) >= 0) return NONE_DONE;
    if (this.suppressed.full) return undefined; // the scratch store decides
    const row = this.baseReads?.getSuppression.get(subject);
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
        if (r.expiresAt !== undefined) this.provisional.set(r.subject, r.expiresAt);
        else this.suppressed.insert(r.subject);
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

  /**
   * Soft bounces are counted in memory for the addresses it holds, in the scratch file for the
   * rest (each call in record order, as the real store runs them).
   */
  async recordSoftBounces(
    requests: readonly SoftBounceRequest[],
    counting: SoftCounting | number,
  ): Promise<number[]> {
    const window = typeof counting === 'number' ? { windowMs: counting } : counting;
    const counts: number[] = [];
    const spilled: number[] = [];
    for (const r of requests) {
      if (this.soft.holds(r.address)) counts.push(this.soft.record(r, window));
      else {
        spilled.push(counts.length);
        counts.push(0);
      }
    }
    if (spilled.length > 0) {
      const decided = await this.scratchStore().recordSoftBounces(
        spilled.map((i) => requests[i]!),
        counting,
      );
      spilled.forEach((i, k) => {
        counts[i] = decided[k]!;
      });
    }
    return counts;
  }

  async recordDeliveries(deliveries: readonly DeliveryRequest[]): Promise<void> {
    const spilled: DeliveryRequest[] = [];
    for (const d of deliveries) {
      if (this.soft.holds(d.address)) this.soft.deliver(d);
      else spilled.push(d);
    }
    if (spilled.length > 0) await this.scratchStore().recordDeliveries(spilled);
  }

  /** A provisional subject of this run becomes permanent (the real state is never written). */
  async confirm(subject: string): Promise<void> {
    const expiresAt = this.provisional.get(subject);
    // Permanent now: into the table, or (table full) kept here without an expiry.
    if (expiresAt !== undefined && this.suppressed.insert(subject) >= 0) this.provisional.delete(subject);
    else if (expiresAt !== undefined) this.provisional.set(subject, Number.POSITIVE_INFINITY);
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
    if (done === undefined && this.suppressed.full) return this.scratchStore().status(subject);
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

export { DryRunSuppressionStore };
