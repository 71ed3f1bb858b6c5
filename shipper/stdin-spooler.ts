/**
 * The stdin spooler: a worker thread that does nothing but read fd 0 and write(2) the bytes to the
 * spool, back to back; the main thread learns about segments through messages.
 *
 * When stdin is a regular file (replaying an acct file, `< file`), bytes are taken off it only once
 * they are in the spool: each chunk is read with pread(2) at the file's offset, which leaves the
 * shared offset alone, appended to the spool, and only then is the offset moved past it by reading
 * the same span again. A SIGKILL at any moment leaves every byte either spooled, or unread (still
 * there for the next run), or both (sent twice: at-least-once) — never neither.
 *
 * A pipe (PowerMTA's case) has no pread: read(2) takes the bytes out of the pipe. One read is
 * followed at once by the write; a SIGKILL between them, or during the write (the kernel then stops
 * part-way), loses what that read returned. See docs/shipper.md.
 */
import { fstatSync, readFileSync, readSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { createSegmentFile, type Segment } from './spool-segments.ts';
import { AppendResult, type SpoolLedger, SpoolWriter } from './spool-writer.ts';

const READ_BYTES = 256 * 1024;

interface SpoolerData {
  role: 'stdin-spooler';
  fd: number;
  dir: string;
  lastSeq: number;
  totalBytes: number;
  segmentBytes: number;
  maxBytes: number;
}

type SpoolerEvent =
  | { t: 'created'; seq: number; path: string; fd: number }
  | { t: 'grew'; seq: number; bytes: number }
  | { t: 'closed'; seq: number; size: number }
  | { t: 'records'; n: number }
  | { t: 'stalled'; reason: 'full' | 'io-error'; message: string }
  | { t: 'end'; error?: string };

/** Main → spooler: bytes freed by deleted segments. */
type SpoolerCommand = { t: 'released'; bytes: number };

class ReportingLedger implements SpoolLedger {
  private seq: number;
  private total: number;
  constructor(
    private readonly data: SpoolerData,
    private readonly port: MessagePort,
  ) {
    this.seq = data.lastSeq;
    this.total = data.totalBytes;
  }
  get totalBytes(): number {
    return this.total;
  }
  released(bytes: number): void {
    this.total -= bytes;
  }
  create(): { segment: Segment; fd: number } {
    const created = createSegmentFile(this.data.dir, ++this.seq);
    this.post({ t: 'created', seq: created.segment.seq, path: created.segment.path, fd: created.fd });
    return created;
  }
  grew(segment: Segment, bytes: number): void {
    segment.size += bytes;
    this.total += bytes;
    this.post({ t: 'grew', seq: segment.seq, bytes });
  }
  shrank(segment: Segment, bytes: number): void {
    segment.size -= bytes;
    this.total -= bytes;
  }
  close(segment: Segment): void {
    segment.closed = true;
    this.post({ t: 'closed', seq: segment.seq, size: segment.size });
  }
  post(event: SpoolerEvent): void {
    this.port.postMessage(event);
  }
}

async function runStdinSpooler(): Promise<void> {
  const data = workerData as SpoolerData;
  const port = parentPort as MessagePort;
  const ledger = new ReportingLedger(data, port);
  port.on('message', (m: SpoolerCommand) => {
    if (m.t === 'released') ledger.released(m.bytes);
  });
  const writer = new SpoolWriter(ledger, {
    segmentBytes: data.segmentBytes,
    maxBytes: data.maxBytes,
    onRecords: (n) => {
      if (n > 0) ledger.post({ t: 'records', n });
    },
  });
  const input = openInput(data.fd);
  const buf = Buffer.allocUnsafe(READ_BYTES);
  for (;;) {
    let n: number;
    try {
      n = input.read(buf);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
        await sleep(5); // a non-blocking descriptor with nothing to read yet
        continue;
      }
      writer.finish();
      ledger.post({ t: 'end', error: (error as Error).message });
      return;
    }
    if (n === 0) break;
    const chunk = buf.subarray(0, n);
    // Retried every 250 ms for as long as the cap or the disk keeps us from writing: giving up
    // would drop records; the main thread exiting (EOF/SIGTERM drain) ends this thread.
    let result = writer.append(chunk);
    while (result !== AppendResult.written) {
      ledger.post({ t: 'stalled', reason: result, message: writer.lastError?.message ?? '' });
      await sleep(250); // lets 'released' messages in
      if (result === AppendResult.full) result = writer.append(chunk);
      else result = writer.retry() ? AppendResult.written : AppendResult.ioError;
    }
    // Spooled: only now may the input let go of these bytes (the writer keeps no view of `buf`).
    try {
      input.consumed(n, buf);
    } catch (error) {
      writer.finish();
      ledger.post({ t: 'end', error: (error as Error).message });
      return;
    }
    // Yield so 'released' messages keep the cap accounting current.
    await new Promise((resolve) => setImmediate(resolve));
  }
  writer.finish();
  ledger.post({ t: 'end' });
}

/** Where the spooler's bytes come from. */
interface Input {
  /** Next bytes of input, into `buf`; 0 at end of input. */
  read: (buf: Buffer) => number;
  /** The `n` bytes the last `read` returned are in the spool. `buf` may be used as scratch. */
  consumed: (n: number, buf: Buffer) => void;
}

function openInput(fd: number): Input {
  let position: number | undefined;
  try {
    if (fstatSync(fd).isFile()) position = offsetOf(fd);
  } catch {
    // A bad descriptor: the first read reports it.
  }
  if (position === undefined) {
    // Pipe, socket, tty (or a file whose offset we cannot learn): read(2) consumes as it reads.
    return { read: (buf) => readSync(fd, buf, 0, buf.length, null), consumed: () => {} };
  }
  // Regular file: pread at our own position; the shared offset (what the next run, or whoever
  // handed us this descriptor, sees as read) advances only past spooled bytes.
  let pos = position;
  return {
    read: (buf) => readSync(fd, buf, 0, buf.length, pos),
    consumed: (n, buf) => {
      // Node has no lseek: read the same span again at the shared offset. A kill part-way leaves
      // the offset somewhere inside bytes that are already spooled (a duplicate, never a gap).
      let left = n;
      while (left > 0) {
        const k = readSync(fd, buf, 0, Math.min(left, buf.length), null);
        if (k === 0) break; // the file shrank under us: nothing more to step over
        left -= k;
      }
      pos += n;
    },
  };
}

/** The descriptor's current file offset (Linux: /proc/self/fdinfo), if it can be read. */
function offsetOf(fd: number): number | undefined {
  try {
    const m = /^pos:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    const pos = m ? Number(m[1]) : Number.NaN;
    return Number.isSafeInteger(pos) ? pos : undefined;
  } catch {
    return undefined;
  }
}

export type { SpoolerCommand, SpoolerData, SpoolerEvent };
export { runStdinSpooler };
