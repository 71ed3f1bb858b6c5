/**
 * A compact set of addresses for `process --dry-run`: each address is held as a 64-bit digest in
 * typed arrays (open addressing, linear probing), with numeric columns beside it, instead of as a
 * string in a Set or Map. Measured on the 300k and 1M files (docs/benchmarks.md): strings held in
 * Maps were most of a dry run's live heap and what the young generation kept promoting.
 *
 * A dry run is a preview, so a digest stands in for the address: two addresses share one only with
 * probability about n^2 / 2^64 (1M addresses: ~5e-8 per run). The real state never uses this.
 */

const MIN_SLOTS = 1 << 12;
const EMPTY = 0;

// The last digest (module state instead of a returned pair: one call per record, no allocation).
let digestHi = 0;
let digestLo = 0;

/** Two 32-bit FNV-1a style hashes of one string with different primes: 64 bits, one pass. */
function digest(text: string): void {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  digestHi = a >>> 0;
  // Never 0: 0 marks an empty slot.
  digestLo = (b | 1) >>> 0;
}

class AddressTable {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private columns: Float64Array[];
  private count = 0;

  /** `maxEntries`: past this many addresses `insert` answers -1 (the caller spills elsewhere). */
  constructor(
    private readonly maxEntries: number,
    private readonly columnCount = 0,
  ) {
    this.hi = new Uint32Array(MIN_SLOTS);
    this.lo = new Uint32Array(MIN_SLOTS);
    this.columns = Array.from({ length: columnCount }, () => new Float64Array(MIN_SLOTS));
  }

  get size(): number {
    return this.count;
  }

  /** Whether another address fits. */
  get full(): boolean {
    return this.count >= this.maxEntries;
  }

  /** The slot of `address`, or -1. */
  find(address: string): number {
    digest(address);
    const slot = this.probe(digestHi, digestLo);
    return this.lo[slot] === EMPTY ? -1 : slot;
  }

  /** The slot of `address`, added (columns NaN) if new; -1 when full. Slots move when it grows. */
  insert(address: string): number {
    digest(address);
    const h = digestHi;
    const l = digestLo;
    let slot = this.probe(h, l);
    if (this.lo[slot] !== EMPTY) return slot;
    if (this.full) return -1;
    if ((this.count + 1) * 4 > this.hi.length * 3) {
      this.grow();
      slot = this.probe(h, l);
    }
    this.hi[slot] = h;
    this.lo[slot] = l;
    for (const column of this.columns) column[slot] = Number.NaN;
    this.count++;
    return slot;
  }

  get(slot: number, column: number): number {
    return this.columns[column]![slot]!;
  }

  set(slot: number, column: number, value: number): void {
    this.columns[column]![slot] = value;
  }

  /** The slot holding (h, l), or the empty slot where it would go. */
  private probe(h: number, l: number): number {
    const mask = this.hi.length - 1;
    let slot = h & mask;
    while (this.lo[slot] !== EMPTY && (this.lo[slot] !== l || this.hi[slot] !== h)) slot = (slot + 1) & mask;
    return slot;
  }

  /** Doubles the slots (load stays <= 3/4) and places every entry again. */
  private grow(): void {
    const { hi, lo, columns } = this;
    const slots = hi.length * 2;
    this.hi = new Uint32Array(slots);
    this.lo = new Uint32Array(slots);
    this.columns = Array.from({ length: this.columnCount }, () => new Float64Array(slots));
    for (let old = 0; old < hi.length; old++) {
      if (lo[old] === EMPTY) continue;
      const slot = this.probe(hi[old]!, lo[old]!);
      this.hi[slot] = hi[old]!;
      this.lo[slot] = lo[old]!;
      columns.forEach((column, c) => {
        this.columns[c]![slot] = column[old]!;
      });
    }
  }
}

export { AddressTable };
