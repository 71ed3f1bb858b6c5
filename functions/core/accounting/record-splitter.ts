/**
 * The one CSV record splitter, over raw bytes (RFC 4180 as PowerMTA writes it), shared by the
 * shipper and the accounting reader: a record ends at LF outside quotes (a CR before it is
 * dropped); a quote opens a quoted field only at a field start, so a stray quote inside a field is
 * literal; `""` inside quotes is a literal quote. Buffer.indexOf (memchr) skips plain text, and the
 * next LF / quote positions are cached, so each byte is searched about once.
 *
 * Malformed input never stalls the stream and memory stays bounded (docs/interfaces.md, rejects):
 * - a quoted section still open after `maxLinesInQuotes` lines, or a record that grows past
 *   `maxRecordBytes` while a quote is open, is cut at its first line end (`RecordCut.unbalancedQuote`)
 *   and what followed is read again;
 * - a record longer than `maxRecordBytes` with no line end is cut at the limit
 *   (`RecordCut.oversized`); the pieces that follow on the same line are `RecordCut.continued`.
 * Each record comes with the number of the line it starts on (blank lines count, and are passed on
 * as empty records).
 */

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

const State = { fieldStart: 0, unquoted: 1, quoted: 2, quoteInQuoted: 3 } as const;
type State = (typeof State)[keyof typeof State];

/** Why a record was cut short instead of ending at its own line end. */
const RecordCut = {
  none: 0,
  /** An open quote ran too long: the record is its first line only. */
  unbalancedQuote: 1,
  /** The first `maxRecordBytes` of a longer line. */
  oversized: 2,
  /** A later piece of a line that was cut as oversized. */
  continued: 3,
} as const;
type RecordCut = (typeof RecordCut)[keyof typeof RecordCut];

/** About the record just passed to a sink; one object, reused for every record. */
interface RecordInfo {
  /** 1-based line where the record starts. */
  line: number;
  cut: RecordCut;
}

/**
 * Receives each record (terminator removed) as a view into `buf`: copy it to keep it, the buffer
 * may be the caller's reused read buffer.
 */
type RecordSink = (buf: Buffer, start: number, end: number, info: RecordInfo) => void;

interface RecordSplitterOptions {
  /** Default 64 KiB. */
  maxRecordBytes?: number;
  /** Default: no limit (only `maxRecordBytes` bounds an open quote). */
  maxLinesInQuotes?: number;
}

const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;

class RecordSplitter {
  private state: State = State.fieldStart;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** Line ends seen inside quoted sections of the current record. */
  private quotedLines = 0;
  private line = 1;
  /** The next record continues a line cut at `maxRecordBytes`. */
  private continuing = false;
  private readonly info: RecordInfo = { line: 1, cut: RecordCut.none };
  private readonly maxRecordBytes: number;
  private readonly maxLinesInQuotes: number;

  constructor(options: number | RecordSplitterOptions = {}) {
    const o = typeof options === 'number' ? { maxRecordBytes: options } : options;
    this.maxRecordBytes = o.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.maxLinesInQuotes = o.maxLinesInQuotes ?? Number.POSITIVE_INFINITY;
  }

  /** Bytes of the incomplete record held back, waiting for more input. */
  get pendingBytes(): number {
    return this.carryBytes;
  }

  push(chunk: Buffer, sink: RecordSink): void {
    let next: Buffer | undefined = chunk;
    while (next !== undefined) next = this.scan(next, sink);
  }

  /** End of input: whatever is held back is a record (a truncated one is passed on as it is). */
  end(sink: RecordSink): void {
    while (this.carryBytes > 0) {
      const whole = this.takeCarry();
      if (this.state === State.quoted && this.quotedLines > 0 && Number.isFinite(this.maxLinesInQuotes)) {
        // A quote opened on an earlier line never closed: that line alone is cut off.
        this.push(this.cutAtFirstLine(whole, sink), sink);
        continue;
      }
      let end = whole.length;
      if (end > 0 && whole[end - 1] === LF) end--;
      if (end > 0 && whole[end - 1] === CR) end--;
      this.deliver(whole, 0, end, sink);
    }
    this.reset();
  }

  /** Scans one buffer; returns what must be scanned again after a cut (undefined: done). */
  private scan(chunk: Buffer, sink: RecordSink): Buffer | undefined {
    let p = 0;
    let recordStart = 0;
    const len = chunk.length;
    let state = this.state;
    // Next LF / quote at or after the position they were searched from (-1: none in the chunk).
    let nl = -2;
    let q = -2;
    while (p < len) {
      if (q !== -1 && q < p) q = chunk.indexOf(QUOTE, p);
      if (state === State.quoted) {
        const close = q < 0 ? len : q;
        if (nl !== -1 && nl < p) nl = chunk.indexOf(LF, p);
        while (nl >= 0 && nl < close) {
          this.quotedLines++;
          if (this.quotedLines >= this.maxLinesInQuotes) {
            this.state = state;
            return this.cutAtFirstLine(this.withCarry(chunk, recordStart), sink);
          }
          nl = chunk.indexOf(LF, nl + 1);
        }
        if (q < 0) {
          p = len;
          break;
        }
        state = State.quoteInQuoted;
        p = q + 1;
        continue;
      }
      if (state === State.quoteInQuoted) {
        const c = chunk[p];
        if (c === QUOTE) {
          state = State.quoted;
          p++;
          continue;
        }
        if (c === COMMA) {
          state = State.fieldStart;
          p++;
          continue;
        }
        if (c !== LF) {
          state = State.unquoted;
          p++;
          continue;
        }
      }
      if (nl !== -1 && nl < p) nl = chunk.indexOf(LF, p);
      if (q >= 0 && (nl < 0 || q < nl)) {
        const atFieldStart = q === p ? state === State.fieldStart : chunk[q - 1] === COMMA;
        state = atFieldStart ? State.quoted : State.unquoted;
        p = q + 1;
        continue;
      }
      if (nl < 0) {
        state = chunk[len - 1] === COMMA ? State.fieldStart : State.unquoted;
        p = len;
        break;
      }
      this.emit(chunk, recordStart, nl, sink);
      p = nl + 1;
      recordStart = p;
      state = State.fieldStart;
    }
    this.state = state;
    if (recordStart < len) {
      // Copied: callers reuse their read buffers.
      this.carry.push(Buffer.from(chunk.subarray(recordStart)));
      this.carryBytes += len - recordStart;
      if (this.carryBytes > this.maxRecordBytes) return this.resync(sink);
    }
    return undefined;
  }

  private emit(chunk: Buffer, start: number, nl: number, sink: RecordSink): void {
    if (this.carryBytes > 0) {
      this.carry.push(chunk.subarray(start, nl)); // consumed right away below
      this.carryBytes += nl - start;
      const whole = this.takeCarry();
      const end = whole.length > 0 && whole[whole.length - 1] === CR ? whole.length - 1 : whole.length;
      this.deliver(whole, 0, end, sink);
    } else {
      const end = nl > start && chunk[nl - 1] === CR ? nl - 1 : nl;
      this.deliver(chunk, start, end, sink);
    }
    this.line += 1 + this.quotedLines;
    this.quotedLines = 0;
  }

  private deliver(buf: Buffer, start: number, end: number, sink: RecordSink, cut?: RecordCut): void {
    const info = this.info;
    info.line = this.line;
    info.cut = cut ?? (this.continuing ? RecordCut.continued : RecordCut.none);
    if (cut === undefined) this.continuing = false;
    sink(buf, start, end, info);
  }

  private withCarry(chunk: Buffer, from: number): Buffer {
    if (this.carryBytes === 0) return Buffer.from(chunk.subarray(from));
    this.carry.push(chunk.subarray(from));
    this.carryBytes += chunk.length - from;
    return this.takeCarry();
  }

  private takeCarry(): Buffer {
    const whole =
      this.carry.length === 1 ? (this.carry[0] as Buffer) : Buffer.concat(this.carry, this.carryBytes);
    this.carry = [];
    this.carryBytes = 0;
    return whole;
  }

  private reset(): void {
    this.state = State.fieldStart;
    this.quotedLines = 0;
  }

  /** The record in `whole` is its first line only; returns the rest, to be scanned again. */
  private cutAtFirstLine(whole: Buffer, sink: RecordSink): Buffer {
    const cut = whole.indexOf(LF);
    const end = cut > 0 && whole[cut - 1] === CR ? cut - 1 : cut;
    this.deliver(whole, 0, end, sink, RecordCut.unbalancedQuote);
    this.continuing = false;
    this.line += 1;
    this.reset();
    return whole.subarray(cut + 1);
  }

  /** An oversized pending record: cut it at its first line end (or at the limit); rescan the rest. */
  private resync(sink: RecordSink): Buffer {
    const whole = this.takeCarry();
    const cut = whole.indexOf(LF);
    if (cut >= 0 && cut <= this.maxRecordBytes) return this.cutAtFirstLine(whole, sink);
    this.deliver(
      whole,
      0,
      this.maxRecordBytes,
      sink,
      this.continuing ? RecordCut.continued : RecordCut.oversized,
    );
    this.continuing = true;
    this.state = State.fieldStart;
    this.quotedLines = 0;
    return whole.subarray(this.maxRecordBytes);
  }
}

/** `type,...` lines are PowerMTA's header: the layout in force for the records that follow. */
function isHeaderRecord(buf: Buffer, start: number, end: number): boolean {
  return (
    end - start > 5 &&
    buf[start] === 0x74 && // t
    buf[start + 1] === 0x79 && // y
    buf[start + 2] === 0x70 && // p
    buf[start + 3] === 0x65 && // e
    buf[start + 4] === COMMA
  );
}

export type { RecordInfo, RecordSink, RecordSplitterOptions };
export { DEFAULT_MAX_RECORD_BYTES, isHeaderRecord, RecordCut, RecordSplitter };
