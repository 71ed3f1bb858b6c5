/**
 * CSV-aware record splitter over raw bytes (RFC 4180 as PowerMTA writes it): a record ends at LF
 * (a preceding CR is dropped) outside quotes; a quote opens a quoted field only at a field start,
 * so a stray quote inside a field is literal. Malformed input never stalls the stream: a record
 * that grows past `maxRecordBytes` while inside quotes is cut at its first line end and the rest is
 * read again, and any record longer than that without a line end is cut at the limit.
 * Uses Buffer.indexOf (memchr) to skip plain text, which keeps it far above PowerMTA's write rate.
 */

const LF = 0x0a;
const CR = 0x0d;
const QUOTE = 0x22;
const COMMA = 0x2c;

const State = { fieldStart: 0, unquoted: 1, quoted: 2, quoteInQuoted: 3 } as const;
type State = (typeof State)[keyof typeof State];

/** Receives each complete record (terminator removed) as a view into `buf`; copy it to keep it. */
type RecordSink = (buf: Buffer, start: number, end: number) => void;

const DEFAULT_MAX_RECORD_BYTES = 64 * 1024;

class RecordSplitter {
  private state: State = State.fieldStart;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  private readonly maxRecordBytes: number;

  constructor(maxRecordBytes = DEFAULT_MAX_RECORD_BYTES) {
    this.maxRecordBytes = maxRecordBytes;
  }

  /** Bytes of the incomplete record held back, waiting for more input. */
  get pendingBytes(): number {
    return this.carryBytes;
  }

  push(chunk: Buffer, sink: RecordSink): void {
    let p = 0;
    let recordStart = 0;
    const len = chunk.length;
    let state = this.state;
    // Next LF / quote at or after the position they were searched from (-1: none in the chunk).
    // Each stays valid until `p` passes it, so each byte is searched about once, not once per
    // quoted field (records carry several).
    let nl = -2;
    let q = -2;
    while (p < len) {
      if (q !== -1 && q < p) q = chunk.indexOf(QUOTE, p);
      if (state === State.quoted) {
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
      if (this.carryBytes > this.maxRecordBytes) this.resync(sink);
    }
  }

  /** End of input: whatever is held back is a record (a truncated one is passed on as it is). */
  end(sink: RecordSink): void {
    if (this.carryBytes > 0) {
      const rest = this.takeCarry();
      let end = rest.length;
      if (end > 0 && rest[end - 1] === LF) end--;
      if (end > 0 && rest[end - 1] === CR) end--;
      sink(rest, 0, end);
    }
    this.state = State.fieldStart;
  }

  private emit(chunk: Buffer, start: number, nl: number, sink: RecordSink): void {
    if (this.carryBytes > 0) {
      this.carry.push(chunk.subarray(start, nl)); // consumed right away below
      this.carryBytes += nl - start;
      const whole = this.takeCarry();
      const end = whole.length > 0 && whole[whole.length - 1] === CR ? whole.length - 1 : whole.length;
      sink(whole, 0, end);
      return;
    }
    const end = nl > start && chunk[nl - 1] === CR ? nl - 1 : nl;
    sink(chunk, start, end);
  }

  private takeCarry(): Buffer {
    const whole =
      this.carry.length === 1 ? (this.carry[0] as Buffer) : Buffer.concat(this.carry, this.carryBytes);
    this.carry = [];
    this.carryBytes = 0;
    return whole;
  }

  /** An oversized pending record: cut it at its first line end (or at the limit) and rescan the rest. */
  private resync(sink: RecordSink): void {
    const whole = this.takeCarry();
    let cut = whole.indexOf(LF);
    let skip = 1;
    if (cut < 0 || cut > this.maxRecordBytes) {
      cut = this.maxRecordBytes;
      skip = 0;
    }
    const end = cut > 0 && whole[cut - 1] === CR && skip === 1 ? cut - 1 : cut;
    sink(whole, 0, end);
    this.state = State.fieldStart;
    this.push(whole.subarray(cut + skip), sink);
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

export type { RecordSink };
export { DEFAULT_MAX_RECORD_BYTES, isHeaderRecord, RecordSplitter };
