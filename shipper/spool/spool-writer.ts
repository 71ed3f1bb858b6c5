/**
 * Appends what is read from stdin to the current spool segment, unchanged, before anything else
 * happens to it: this is the point where a record counts as received. Rotates segments at record
 * boundaries and starts each new one with the header line in force, so a segment can be read alone.
 */
import { close, fsync, ftruncateSync, writeSync } from 'node:fs';
import { isHeaderRecord, RecordSplitter } from '#core/accounting/record-splitter.ts';
import type { Segment } from './spool-segments.ts';

/** Where segments come from and where growth is reported (SpoolSegments). */
interface SpoolLedger {
  create: () => { segment: Segment; fd: number };
  grew: (segment: Segment, bytes: number) => void;
  /** Bytes cut off the end of a segment before it is closed. */
  shrank: (segment: Segment, bytes: number) => void;
  close: (segment: Segment) => void;
  readonly totalBytes: number;
}

interface SpoolWriterOptions {
  segmentBytes: number;
  maxBytes: number;
  onRecords: (count: number) => void;
  /** An fsync or close on the thread pool failed (the bytes are written; durability is at risk). */
  onSyncError?: (error: NodeJS.ErrnoException) => void;
}

const AppendResult = { written: 'written', full: 'full', ioError: 'io-error' } as const;
type AppendResult = (typeof AppendResult)[keyof typeof AppendResult];

class SpoolWriter {
  private readonly spool: SpoolLedger;
  private readonly options: SpoolWriterOptions;
  private readonly splitter = new RecordSplitter();
  private header: Buffer | undefined;
  private segment: Segment;
  private fd: number;
  private dirty = false;
  private finished = false;
  /** fsyncs in flight per descriptor; a descriptor in `closing` is closed after its last one. */
  private readonly syncing = new Map<number, number>();
  private readonly closing = new Set<number>();
  private pendingIo = 0;
  private ioDone: Array<() => void> = [];
  /** Bytes already split but not yet on disk because a write failed (disk full): written first. */
  private unwritten: Buffer[] = [];
  lastError: NodeJS.ErrnoException | undefined;

  constructor(spool: SpoolLedger, options: SpoolWriterOptions) {
    this.spool = spool;
    this.options = options;
    const { segment, fd } = spool.create();
    this.segment = segment;
    this.fd = fd;
  }

  /**
   * Spools one chunk (the caller may reuse `chunk` afterwards: nothing keeps a view of it). `full`: over the size cap, nothing written, offer it again later.
   * `io-error`: the write failed part-way (disk full); the rest is kept and `retry()` must succeed
   * before more chunks are accepted.
   */
  append(chunk: Buffer): AppendResult {
    if (this.finished) {
      // A read that was already under way when we stopped: spool it in a segment of its own.
      this.finished = false;
      this.rotate(false);
      const result = this.append(chunk);
      this.finish();
      return result;
    }
    if (this.unwritten.length > 0) return this.retry() ? this.append(chunk) : AppendResult.ioError;
    if (this.spool.totalBytes + chunk.length > this.options.maxBytes) return AppendResult.full;
    // Bytes go to disk before anything else happens to them. From a pipe, read(2) until this
    // write(2) has returned is the only moment a SIGKILL can lose them; from a regular file the
    // spooler takes them off its input only after this (see stdin-spooler.ts).
    const ok = this.write(chunk);
    this.account(chunk);
    if (!ok) return AppendResult.ioError;
    if (this.segment.size >= this.options.segmentBytes) {
      const boundary = chunk.length - this.splitter.pendingBytes;
      if (boundary >= 0) this.rotateAt(chunk.subarray(boundary));
    }
    return this.unwritten.length > 0 ? AppendResult.ioError : AppendResult.written;
  }

  /**
   * Starts a new segment so that each holds whole records: the incomplete record at the end of the
   * current one (`tail`, already written) is copied to the new segment after the header, and only
   * then cut off the old one. A crash in between leaves the tail twice (an extra fragment
   * downstream rejects), never zero times.
   */
  private rotateAt(tail: Buffer): void {
    const old = this.segment;
    const oldFd = this.fd;
    const cut = old.size - tail.length;
    const { segment, fd } = this.spool.create();
    this.segment = segment;
    this.fd = fd;
    if (this.header) this.write(Buffer.concat([this.header, Buffer.from('\n')]));
    if (tail.length > 0) this.write(tail);
    try {
      if (tail.length > 0) {
        ftruncateSync(oldFd, cut);
        this.spool.shrank(old, tail.length);
      }
    } catch (error) {
      this.lastError = error as NodeJS.ErrnoException;
    }
    this.closeLater(oldFd);
    this.spool.close(old);
  }

  private account(chunk: Buffer): void {
    let records = 0;
    this.splitter.push(chunk, (buf, start, end) => {
      if (isHeaderRecord(buf, start, end)) this.header = Buffer.from(buf.subarray(start, end));
      else if (end > start) records++;
    });
    this.options.onRecords(records);
  }

  /** Writes what a failed append left over. True once nothing is left. */
  retry(): boolean {
    while (this.unwritten.length > 0) {
      const next = this.unwritten.shift() as Buffer;
      if (!this.writeNow(next)) return false;
    }
    return true;
  }

  /** fsync the current segment (on the thread pool) if anything was appended since the last call. */
  sync(): void {
    if (!this.dirty || this.finished) return;
    this.dirty = false;
    this.fsyncLater(this.fd);
  }

  /** Resolves once every fsync and close started so far has finished (before the process exits). */
  settled(): Promise<void> {
    if (this.pendingIo === 0) return Promise.resolve();
    return new Promise((resolve) => this.ioDone.push(resolve));
  }

  /**
   * fsync then close, off the event loop: reading stdin must not wait for the disk. The descriptor
   * stays open until every fsync on it has returned, so its number cannot be reused under one.
   */
  private closeLater(fd: number): void {
    this.closing.add(fd);
    this.fsyncLater(fd);
  }

  private fsyncLater(fd: number): void {
    this.syncing.set(fd, (this.syncing.get(fd) ?? 0) + 1);
    this.pendingIo++;
    fsync(fd, (error) => {
      if (error) this.ioFailed(error);
      const left = (this.syncing.get(fd) ?? 1) - 1;
      if (left > 0) this.syncing.set(fd, left);
      else {
        this.syncing.delete(fd);
        if (this.closing.delete(fd)) {
          this.pendingIo++;
          close(fd, (closeError) => {
            if (closeError) this.ioFailed(closeError);
            this.ioFinished();
          });
        }
      }
      this.ioFinished();
    });
  }

  private ioFailed(error: NodeJS.ErrnoException): void {
    this.lastError = error;
    this.options.onSyncError?.(error);
  }

  private ioFinished(): void {
    if (--this.pendingIo === 0) for (const done of this.ioDone.splice(0)) done();
  }

  /** End of input: the trailing partial record (if any) is already on disk; close the segment. */
  finish(): void {
    this.splitter.end(() => this.options.onRecords(1));
    this.retry();
    this.closeCurrent();
    this.finished = true;
  }

  private rotate(closeCurrent = true): void {
    if (closeCurrent) this.closeCurrent();
    const { segment, fd } = this.spool.create();
    this.segment = segment;
    this.fd = fd;
    if (this.header) this.write(Buffer.concat([this.header, Buffer.from('\n')]));
  }

  private closeCurrent(): void {
    this.dirty = false;
    this.closeLater(this.fd);
    this.spool.close(this.segment);
  }

  /** Keeps order: while earlier bytes are still unwritten, later ones queue behind them. */
  private write(buf: Buffer): boolean {
    if (this.unwritten.length > 0) {
      this.unwritten.push(Buffer.from(buf));
      return false;
    }
    return this.writeNow(buf);
  }

  private writeNow(buf: Buffer): boolean {
    let offset = 0;
    try {
      while (offset < buf.length) {
        const n = writeSync(this.fd, buf, offset, buf.length - offset);
        offset += n;
        this.spool.grew(this.segment, n);
      }
      this.dirty = true;
      return true;
    } catch (error) {
      this.lastError = error as NodeJS.ErrnoException;
      this.unwritten.unshift(Buffer.from(buf.subarray(offset)));
      return false;
    }
  }
}

export type { SpoolLedger, SpoolWriterOptions };
export { AppendResult, SpoolWriter };
