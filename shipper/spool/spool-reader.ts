/**
 * Reads the spool back in write order, segment by segment, and hands out complete records.
 * Only bytes the writer has already appended are read, so the reader may trail the writer closely
 * (low latency) or by gigabytes (SQS down) with the same bounded memory.
 */
import { isUtf8 } from 'node:buffer';
import { closeSync, openSync, readSync } from 'node:fs';
import { isHeaderRecord, RecordSplitter } from '#core/accounting/record-splitter.ts';
import { READ_BYTES, readBuffer } from '../message/byte-arena.ts';
import type { RecordBytesHint } from '../message/message-types.ts';
import type { Segment, SpoolSegments } from './spool-segments.ts';

interface SpoolRecordSink {
  record: (segment: Segment, buf: Buffer, start: number, end: number, hint: RecordBytesHint) => void;
  header: (segment: Segment, header: string) => void;
  /** Every record of the segment has been handed out. */
  segmentEnd: (segment: Segment) => void;
}

class SpoolReader {
  private readonly spool: SpoolSegments;
  private current: Segment | undefined;
  private fd: number | undefined;
  private offset = 0;
  private splitter = new RecordSplitter();
  private lastSeq = 0;
  /** Reused for every read: records are copied out (as JSON) before the next read. The arena's
   * read buffer, so one reader per process. */
  private buf = Buffer.alloc(0);
  /** About the current read, checked once for all its records (records from a carry: unknown). */
  private readonly chunkHint: RecordBytesHint = { utf8: false, noncharacters: true };
  private readonly unknownHint: RecordBytesHint = { utf8: false, noncharacters: true };
  private chunk: Buffer | undefined;

  constructor(spool: SpoolSegments) {
    this.spool = spool;
  }

  /** Reads up to `maxBytes`; returns how many bytes were consumed (0: nothing new right now). */
  read(maxBytes: number, sink: SpoolRecordSink): number {
    for (let hops = 0; hops < 1000; hops++) {
      if (!this.current) {
        const next = this.spool.next(this.lastSeq);
        if (!next) return 0;
        this.current = next;
        this.lastSeq = next.seq;
        this.offset = 0;
        this.splitter = new RecordSplitter();
        this.fd = openSync(next.path, 'r');
      }
      const segment = this.current;
      const available = segment.size - this.offset;
      if (available > 0) {
        if (this.buf.length < maxBytes)
          this.buf = maxBytes <= READ_BYTES ? readBuffer : Buffer.allocUnsafe(maxBytes);
        const n = readSync(this.fd as number, this.buf, 0, Math.min(available, maxBytes), this.offset);
        this.offset += n;
        const chunk = this.buf.subarray(0, n);
        // A read may end inside a multi-byte character: then its records are checked one by one.
        this.chunk = chunk;
        this.chunkHint.utf8 = isUtf8(chunk);
        this.chunkHint.noncharacters = chunk.includes(0xef);
        this.splitter.push(chunk, (b, s, e) => this.deliver(segment, b, s, e, sink));
        this.chunk = undefined;
        if (n > 0) return n;
      }
      if (!segment.closed) return 0;
      if (this.offset > segment.size) {
        // The writer moved this segment's incomplete last record to the next segment: what we
        // hold of it will be read there.
        this.splitter = new RecordSplitter();
      } else {
        // A segment left by a killed run may end inside a record: pass that piece on as it is.
        this.splitter.end((b, s, e) => this.deliver(segment, b, s, e, sink));
      }
      closeSync(this.fd as number);
      this.fd = undefined;
      this.current = undefined;
      segment.fullyRead = true;
      sink.segmentEnd(segment);
    }
    return 0;
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  private deliver(segment: Segment, buf: Buffer, start: number, end: number, sink: SpoolRecordSink): void {
    if (end === start) return; // blank line: nothing to ship
    if (isHeaderRecord(buf, start, end)) sink.header(segment, buf.toString('utf8', start, end));
    else sink.record(segment, buf, start, end, buf === this.chunk ? this.chunkHint : this.unknownHint);
  }
}

export type { SpoolRecordSink };
export { SpoolReader };
