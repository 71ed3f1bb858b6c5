/**
 * Soft-bounce counting for `process --dry-run`, in memory: the same counts as the SQLite store's
 * statements (sqlite-suppression-store.ts recordSoftBounces / recordDeliveries) over the real state
 * read underneath, without writing a scratch file per bounce (measured: the scratch file was a
 * quarter of a dry run's CPU, docs/benchmarks.md). Up to `limit` addresses are held (by digest,
 * dry-run-address-table.ts); an address first seen after that is counted by the caller's scratch
 * store, so memory stays bounded.
 */
import { countSoftBounces, laterReset, type SoftCounting } from '#core/decide/soft-bounce-window.ts';
import type { DeliveryRequest, SoftBounceRequest } from '#core/ports.ts';
import { AddressTable } from './dry-run-address-table.ts';
import { fnv1a32 } from './sqlite-state-schema.ts';
import type { BaseReads, BaseSoftKey } from './sqlite-suppression-store.ts';

/** One address: its soft bounces of this run (time and record-key hash, in step) and last delivery. */
interface SoftHistory {
  at: number[];
  keys: number[];
  resetAt: number | undefined;
}

const NOTHING_STORED: ReadonlyArray<{ at: number; key: BaseSoftKey }> = Object.freeze([]);

/** Columns of the address table: an address's one soft bounce (or MOVED) and its record-key hash. */
const AT = 0;
const KEY = 1;
/** The one column of the resets table: the address's last delivery. */
const RESET = 0;
/** In AT: this address has more than one soft bounce; its history is in the map. */
const MOVED = Number.POSITIVE_INFINITY;

function defined(value: number): number | undefined {
  return Number.isNaN(value) ? undefined : value;
}

class DryRunSoftBounces {
  /** Most addresses have one soft bounce: held as numbers beside the address's digest. */
  private readonly table: AddressTable;
  /** Last deliveries of table-held addresses (fewer: only those with a soft bounce somewhere). */
  private readonly resets: AddressTable;
  /** Addresses with more than one: their whole history. */
  private readonly histories = new Map<string, SoftHistory>();
  /** The real state's reads (sqlite-suppression-store.ts), if there is a state file. */
  private readonly base: BaseReads | undefined;

  constructor(base: BaseReads | undefined, limit: number) {
    this.base = base;
    this.table = new AddressTable(limit, ['float64', 'uint32']);
    this.resets = new AddressTable(limit, ['float64']);
  }

  /** Whether this address is counted here (held already, or room for it). */
  holds(address: string): boolean {
    return !this.table.full || this.table.find(address) >= 0;
  }

  /** Records one soft bounce (held addresses only) and returns its count. */
  record(r: SoftBounceRequest, counting: SoftCounting): number {
    const { windowMs } = counting;
    const from = r.at - windowMs;
    const to = r.at + windowMs;
    const stored = this.base?.softNear?.all(r.address, from, to) ?? NOTHING_STORED;
    const history = this.insert(r, stored);
    const resetAt = laterReset(
      laterReset(r.resetAt, history.resetAt),
      this.base?.getReset?.get(r.address)?.at,
    );
    // Most addresses have this one bounce only: its count is 1, or 0 at or before a delivery.
    if (stored.length === 0 && history.at.length === 1 && history.at[0] === r.at)
      return resetAt !== undefined && r.at <= resetAt ? 0 : 1;
    const near: number[] = [];
    for (const t of history.at) if (t >= from && t <= to) near.push(t);
    for (const s of stored) near.push(s.at);
    return countSoftBounces(near, r.at, counting, resetAt);
  }

  /**
   * INSERT OR IGNORE on (address, record key): a record seen before (here or in the state) once.
   * Returns the address's history after it (a short-lived view for a table-held address).
   */
  private insert(r: SoftBounceRequest, stored: ReadonlyArray<{ key: BaseSoftKey }>): SoftHistory {
    // A record key only has to differ from the few other keys of one address: 32 bits.
    const hash = fnv1a32(r.recordKey);
    // The state's rows are keyed as its layout keys them (the hash, or the text if not migrated).
    const key = stored.length > 0 ? this.base!.softKey(r.recordKey) : undefined;
    const inState = key !== undefined && stored.some((s) => s.key === key);
    const slot = this.table.insert(r.address);
    const first = this.table.get(slot, AT);
    if (first === MOVED) {
      const history = this.histories.get(r.address)!;
      if (!inState && !history.keys.includes(hash)) {
        history.at.push(r.at);
        history.keys.push(hash);
      }
      return history;
    }
    const resetAt = this.resetOf(r.address);
    if (Number.isNaN(first)) {
      if (inState) return newHistory([], [], resetAt);
      this.table.set(slot, AT, r.at);
      this.table.set(slot, KEY, hash);
      return newHistory([r.at], [hash], resetAt);
    }
    const firstKey = this.table.get(slot, KEY);
    if (inState || firstKey === hash) return newHistory([first], [firstKey], resetAt);
    const history = newHistory([first, r.at], [firstKey, hash], resetAt);
    this.histories.set(r.address, history);
    this.table.set(slot, AT, MOVED);
    return history;
  }

  /** A delivery resets an address that has soft bounces (here or in the state); held addresses only. */
  deliver(d: DeliveryRequest): void {
    let slot = this.table.find(d.address);
    if (slot < 0) {
      if (!this.base?.softAny?.get(d.address)) return;
      slot = this.table.insert(d.address);
    }
    if (this.table.get(slot, AT) === MOVED) {
      const history = this.histories.get(d.address)!;
      history.resetAt = laterReset(history.resetAt, d.at);
      return;
    }
    const reset = this.resets.insert(d.address);
    this.resets.set(reset, RESET, laterReset(defined(this.resets.get(reset, RESET)), d.at)!);
  }

  private resetOf(address: string): number | undefined {
    if (this.resets.size === 0) return undefined;
    const slot = this.resets.find(address);
    return slot < 0 ? undefined : defined(this.resets.get(slot, RESET));
  }
}

/**
 * Arrays made from literals are allocated at their length; pushed into from empty, V8 gives each
 * 16 slots, which for ~100,000 addresses of one or two bounces was 26 MB of empty slots (heap
 * snapshot of the 300k dry run).
 */
function newHistory(at: number[], keys: number[], resetAt: number | undefined = undefined): SoftHistory {
  return { at, keys, resetAt };
}

export { DryRunSoftBounces };
