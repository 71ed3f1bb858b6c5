/**
 * The stdin spooler: a worker thread that does nothing but read(2) fd 0 and write(2) the bytes to
 * the spool, back to back. Blocking reads are fine here, and since nothing else runs on this
 * thread, bytes leave the pipe and reach the spool file within microseconds — a SIGKILL at any
 * moment loses nothing that was read. The main thread learns about segments through messages.
 */
import { readSync } from 'node:fs';
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
  const buf = Buffer.allocUnsafe(READ_BYTES);
  for (;;) {
    let n: number;
    try {
      n = readSync(data.fd, buf, 0, READ_BYTES, null);
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
    // Yield so 'released' messages keep the cap accounting current.
    await new Promise((resolve) => setImmediate(resolve));
  }
  writer.finish();
  ledger.post({ t: 'end' });
}

export type { SpoolerCommand, SpoolerData, SpoolerEvent };
export { runStdinSpooler };
