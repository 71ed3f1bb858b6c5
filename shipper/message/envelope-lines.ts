/**
 * The `lines` of an envelope, built as JSON bytes record by record straight from the spool's bytes,
 * with no JavaScript string per record: ~1,700 strings per message kept alive until the message was
 * complete made V8 (in the small heap the shipper runs in) spend more CPU collecting garbage than
 * shipping, and JSON.stringify per record cost ~2 µs.
 *
 * Fast path, a valid UTF-8 record whose only JSON-special bytes are quotes: the spans between
 * quotes are copied natively and each quote becomes \". Anything else (control bytes, backslash,
 * U+FFFE/U+FFFF) goes through JSON.stringify. A record that is not valid UTF-8 travels as base64,
 * listed in `b64`. Buffers come from the byte arena when they fit (reused once encoded, and
 * copied into from the spool reader's buffer without allocating); larger ones are plain buffers.
 */
import { isUtf8 } from 'node:buffer';
import { escapeSqsNoncharacters } from '#core/envelope/envelope-wire.ts';
import { copyInArena, hasEscapesInArena, returnSlot, takeSlot } from './byte-arena.ts';

const COMMA = 0x2c;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
/** First byte of U+FFFE / U+FFFF in UTF-8 (EF BF BE / EF BF BF), which SQS refuses raw. */
const NONCHARACTER_LEAD = 0xef;
const EMPTY = Buffer.alloc(0);

class EnvelopeLines {
  /** JSON items, comma separated, no brackets, from `base` on (room before it for the envelope head). */
  private buf: Buffer;
  private readonly base: number;
  private used: number;
  /** Byte offset where each item ends (its closing quote + 1). */
  readonly itemEnds: number[] = [];
  readonly b64: number[] = [];

  /** Where the last quote search started and what it found, for the buffer it searched. */
  private quoteIn: Buffer | undefined;
  private quoteFrom = 0;
  private quoteAt = -1;

  /**
   * `headRoom`: bytes kept free before the items, so `frame()` can add the envelope without a copy.
   * `continues`: these items follow earlier ones in the same array (the first gets a comma too).
   */
  constructor(
    capacity: number,
    headRoom = 0,
    private readonly continues = false,
  ) {
    const want = Math.max(1024, capacity + headRoom);
    this.buf = takeSlot(want) ?? Buffer.allocUnsafe(want);
    this.base = headRoom;
    this.used = headRoom;
  }

  /** The message is encoded: its buffer may serve the next one (no view of it may be kept). */
  release(): void {
    returnSlot(this.buf);
    this.buf = EMPTY;
    this.used = this.base;
  }

  /**
   * The items between `head` and `tail`, as one view of this buffer when the head fits the room
   * left for it (else a copy). Valid until the next add or release.
   */
  frame(head: string, tail: string): Buffer {
    const headBytes = Buffer.byteLength(head, 'utf8');
    const tailBytes = Buffer.byteLength(tail, 'utf8');
    if (headBytes > this.base)
      return Buffer.concat([Buffer.from(head, 'utf8'), this.bytes, Buffer.from(tail, 'utf8')]);
    this.reserve(tailBytes);
    this.buf.write(head, this.base - headBytes, 'utf8');
    this.buf.write(tail, this.used, 'utf8');
    return this.buf.subarray(this.base - headBytes, this.used + tailBytes);
  }

  /** Records given as text, with `b64` listing those that hold base64 of non-UTF-8 bytes. */
  static fromText(lines: readonly string[], b64: readonly number[] = []): EnvelopeLines {
    const binary = new Set(b64);
    const out = new EnvelopeLines(lines.reduce((n, l) => n + l.length + 8, 0));
    for (const [i, line] of lines.entries()) {
      if (binary.has(i)) out.addBase64(line);
      else out.addText(line);
    }
    return out;
  }

  get count(): number {
    return this.itemEnds.length;
  }

  /** Bytes of the items written so far. */
  get size(): number {
    return this.used - this.base;
  }

  /** The items written so far (a view: valid until the next add). */
  get bytes(): Buffer {
    return this.buf.subarray(this.base, this.used);
  }

  /**
   * Adds the record `buf[start, end)`. `utf8` is true when the caller already knows those bytes are
   * valid UTF-8 (checked for a whole read at once); `noncharacters` false when it knows there is no
   * 0xEF byte among them.
   */
  addBytes(buf: Buffer, start: number, end: number, utf8: boolean, noncharacters: boolean): void {
    if (!utf8 && !isUtf8(buf.subarray(start, end))) {
      this.b64.push(this.count);
      this.addJson(`"${buf.toString('base64', start, end)}"`, 'latin1');
      return;
    }
    if (
      (hasEscapesInArena(buf, start, end) ?? needsEscapes(buf, start, end)) ||
      (noncharacters && buf.subarray(start, end).includes(NONCHARACTER_LEAD))
    ) {
      this.addText(buf.toString('utf8', start, end));
      return;
    }
    this.reserve((end - start) * 2 + 3);
    const out = this.buf;
    let o = this.used;
    if (o > this.base || this.continues) out[o++] = COMMA;
    out[o++] = QUOTE;
    let p = start;
    for (;;) {
      const q = this.nextQuote(buf, p);
      if (q < 0 || q >= end) {
        o += copySpan(buf, p, end, out, o);
        break;
      }
      o += copySpan(buf, p, q, out, o);
      out[o++] = BACKSLASH;
      out[o++] = QUOTE;
      p = q + 1;
    }
    out[o++] = QUOTE;
    this.used = o;
    this.itemEnds.push(o - this.base);
  }

  /**
   * Position of the first quote at or after `p` in `buf`, or -1. Remembers the last answer, so a
   * run of records without quotes does not search to the end of the read once per record. Relies
   * on each read being a new Buffer object (the spool reader hands out a fresh view per read).
   */
  private nextQuote(buf: Buffer, p: number): number {
    if (buf === this.quoteIn && p >= this.quoteFrom && (this.quoteAt < 0 || p <= this.quoteAt))
      return this.quoteAt;
    this.quoteIn = buf;
    this.quoteFrom = p;
    this.quoteAt = buf.indexOf(QUOTE, p);
    return this.quoteAt;
  }

  /** Adds a record given as text (records SQS refused, decoded back from their message). */
  addText(text: string): void {
    this.addJson(escapeSqsNoncharacters(JSON.stringify(text)), 'utf8');
  }

  /** Adds a record given as base64 of bytes that are not UTF-8. */
  addBase64(base64: string): void {
    this.b64.push(this.count);
    this.addJson(JSON.stringify(base64), 'latin1');
  }

  /** Items `from` to `to` (exclusive) as a new EnvelopeLines. */
  slice(from: number, to: number): EnvelopeLines {
    const start = from === 0 ? 0 : (this.itemEnds[from - 1] as number) + 1;
    const end = to === 0 ? 0 : (this.itemEnds[to - 1] as number);
    const part = new EnvelopeLines(end - start, this.base);
    this.buf.copy(part.buf, part.base, this.base + start, this.base + end);
    part.used = part.base + end - start;
    for (let i = from; i < to; i++) part.itemEnds.push((this.itemEnds[i] as number) - start);
    for (const i of this.b64) if (i >= from && i < to) part.b64.push(i - from);
    return part;
  }

  private addJson(json: string, encoding: 'latin1' | 'utf8'): void {
    const max = encoding === 'latin1' ? json.length : json.length * 3;
    this.reserve(max + 1);
    if (this.itemEnds.length > 0 || this.continues) this.buf[this.used++] = COMMA;
    this.used += this.buf.write(json, this.used, encoding);
    this.itemEnds.push(this.used - this.base);
  }

  private reserve(bytes: number): void {
    if (this.used + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + bytes));
    this.buf.copy(bigger, 0, 0, this.used);
    returnSlot(this.buf);
    this.buf = bigger;
  }
}

/** Copies `src[start, end)` into `dst` at `at`; returns the length. */
function copySpan(src: Buffer, start: number, end: number, dst: Buffer, at: number): number {
  if (end > start && !copyInArena(src, start, end, dst, at)) src.copy(dst, at, start, end);
  return end - start;
}

/** Control bytes and backslash need JSON escapes the fast path does not write. */
function needsEscapes(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i] as number;
    if (c < 0x20 || c === BACKSLASH) return true;
  }
  return false;
}

export { EnvelopeLines };
