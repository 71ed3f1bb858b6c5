/**
 * The stdin spooler: takes what PowerMTA writes to the pipe and appends it to the spool, on the
 * main thread, in the same callback that read it — no thread, no queue between read(2) and
 * write(2), and no second V8 isolate (a worker thread cost ~19 MB RSS).
 *
 * A pipe or socket (PowerMTA's case) is read by libuv in the event loop itself: the bytes reach
 * JavaScript, and the spool, in the callback of the read that returned them. The pipe buffer keeps
 * PowerMTA's writes flowing while the loop does other work, which is bounded to a few
 * milliseconds per turn. A SIGKILL between one read(2) and its write(2) loses what that read
 * returned (see docs/shipper.md); nothing waits in memory longer than that.
 *
 * A regular file (replaying an acct file, `< file`) is read with pread(2) at our own position;
 * the shared offset moves past bytes only once they are in the spool, by reading the same span
 * again. A SIGKILL at any moment leaves every byte either spooled, or unread (still there for the
 * next run), or both (sent twice: at-least-once) — never neither.
 */
import { fstatSync, readFileSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { isatty, ReadStream as TtyReadStream } from 'node:tty';
import { AppendResult, type SpoolWriter } from './spool-writer.ts';

const READ_BYTES = 256 * 1024;
const STALL_RETRY_MS = 250;

interface StdinSpoolerHooks {
  /** The spool cannot take more right now (cap reached, or the disk refused a write). */
  stalled: (reason: 'full' | 'io-error', message: string) => void;
  /** End of input (EOF, a read error, or `stop()`); the writer is finished. */
  ended: (error?: string) => void;
}

class StdinSpooler {
  private readonly fd: number;
  private readonly writer: SpoolWriter;
  private readonly hooks: StdinSpoolerHooks;
  private stream: Socket | TtyReadStream | undefined;
  private done = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(fd: number, writer: SpoolWriter, hooks: StdinSpoolerHooks) {
    this.fd = fd;
    this.writer = writer;
    this.hooks = hooks;
  }

  start(): void {
    let stat: ReturnType<typeof fstatSync> | undefined;
    try {
      stat = fstatSync(this.fd);
    } catch (error) {
      this.end((error as Error).message);
      return;
    }
    const position = stat.isFile() ? offsetOf(this.fd) : undefined;
    if (position !== undefined) this.readFile(position);
    else if (stat.isFIFO() || stat.isSocket()) this.readPipe();
    else if (isatty(this.fd)) this.readStream(new TtyReadStream(this.fd));
    else this.readDevice();
  }

  /** SIGTERM: stop taking input; what was read is already spooled. */
  stop(): void {
    this.end();
  }

  private end(error?: string): void {
    if (this.done) return;
    this.done = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stream?.pause();
    this.stream?.removeAllListeners('data');
    this.writer.finish();
    this.hooks.ended(error);
  }

  /**
   * Spools `chunk`, retrying while the cap or the disk refuses it; `then` runs once it is in.
   * `keep` gives a copy to retry with when the caller's buffer will not stay as it is.
   */
  private spool(first: Buffer, then: () => void, keep: () => Buffer = () => first): void {
    let chunk = first;
    let result: AppendResult = this.writer.append(chunk);
    const retry = (): void => {
      this.retryTimer = undefined;
      if (this.done) return;
      result =
        result === AppendResult.full
          ? this.writer.append(chunk)
          : this.writer.retry()
            ? 'written'
            : 'io-error';
      check();
    };
    const check = (): void => {
      if (result === AppendResult.written) {
        then();
        return;
      }
      // Giving up would drop records: keep trying for as long as it takes (a drain or SIGTERM ends us).
      this.hooks.stalled(result, this.writer.lastError?.message ?? '');
      if (chunk === first) chunk = keep();
      this.retryTimer = setTimeout(retry, STALL_RETRY_MS);
    };
    check();
  }

  /**
   * Pipe or socket: libuv reads into one reused buffer (no allocation per read: a fresh 64 KiB
   * buffer per read was most of the shipper's memory, waiting for the garbage collector).
   */
  private readPipe(): void {
    // `onread` is accepted by the Socket constructor (Node ≥12) though its typings only list it
    // for net.connect.
    const options = {
      fd: this.fd,
      readable: true,
      onread: {
        buffer: Buffer.allocUnsafe(READ_BYTES),
        callback: (n: number, buf: Uint8Array) => {
          if (this.done) return false;
          const chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
          let spooled = false;
          let stalled = false;
          this.spool(
            chunk,
            () => {
              spooled = true;
              if (stalled) socket.resume();
            },
            // The read buffer is reused by the next read: a chunk that must wait is copied.
            () => Buffer.from(chunk),
          );
          stalled = !spooled;
          return spooled; // false pauses reading: the pipe, not our memory, holds the rest
        },
      },
    };
    const socket = new Socket(options as ConstructorParameters<typeof Socket>[0]);
    this.stream = socket;
    socket.on('end', () => this.end());
    socket.on('error', (error) => this.end(error.message));
  }

  private readStream(stream: Socket | TtyReadStream): void {
    this.stream = stream;
    stream.on('data', (chunk: Buffer) => {
      if (this.done) return;
      let spooled = false;
      this.spool(chunk, () => {
        spooled = true;
        if (stream.isPaused()) stream.resume();
      });
      // Stalled: stop reading so the pipe, not our memory, holds what PowerMTA writes meanwhile.
      if (!spooled) stream.pause();
    });
    stream.on('end', () => this.end());
    stream.on('error', (error) => this.end(error.message));
  }

  /** Regular file: pread, spool, then step the shared offset over the spooled span. */
  private readFile(position: number): void {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    let pos = position;
    const next = (): void => {
      if (this.done) return;
      let n: number;
      try {
        n = readSync(this.fd, buf, 0, buf.length, pos);
      } catch (error) {
        this.end((error as Error).message);
        return;
      }
      if (n === 0) {
        this.end();
        return;
      }
      this.spool(buf.subarray(0, n), () => {
        try {
          skip(this.fd, n, buf);
        } catch (error) {
          this.end((error as Error).message);
          return;
        }
        pos += n;
        // One chunk per turn of the event loop: shipping and timers run in between.
        setImmediate(next);
      });
    };
    next();
  }

  /** Anything else (a character device such as /dev/null): plain reads, one per loop turn. */
  private readDevice(): void {
    const buf = Buffer.allocUnsafe(READ_BYTES);
    const next = (): void => {
      if (this.done) return;
      let n: number;
      try {
        n = readSync(this.fd, buf, 0, buf.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
          setTimeout(next, 5); // non-blocking descriptor with nothing to read yet
          return;
        }
        this.end((error as Error).message);
        return;
      }
      if (n === 0) {
        this.end();
        return;
      }
      this.spool(buf.subarray(0, n), () => setImmediate(next));
    };
    next();
  }
}

/**
 * Node has no lseek: advance the shared offset by reading the same span again. A kill part-way
 * leaves the offset inside bytes that are already spooled (a duplicate, never a gap).
 */
function skip(fd: number, n: number, scratch: Buffer): void {
  let left = n;
  while (left > 0) {
    const k = readSync(fd, scratch, 0, Math.min(left, scratch.length), null);
    if (k === 0) break; // the file shrank under us: nothing more to step over
    left -= k;
  }
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

export type { StdinSpoolerHooks };
export { StdinSpooler };
