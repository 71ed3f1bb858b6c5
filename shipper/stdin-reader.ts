/**
 * Reads fd 0 with plain read(2) calls on libuv's thread pool and hands every chunk over at once,
 * so the bytes are spooled within one callback of leaving the pipe. Nothing downstream can slow
 * it: the only pause is `waitUntil` (spool cap or full disk), which the caller reports loudly.
 */
import { read } from 'node:fs';

const READ_BYTES = 256 * 1024;

interface StdinReaderHandlers {
  /** Returns false when the chunk could not be taken yet; it is offered again after a pause. */
  chunk: (buf: Buffer) => boolean;
  end: () => void;
  error: (error: NodeJS.ErrnoException) => void;
}

function startStdinReader(fd: number, h: StdinReaderHandlers): { stop: () => void } {
  let stopped = false;
  // Bytes already taken from the pipe are spooled even after stop(): they exist nowhere else.
  const offer = (buf: Buffer): void => {
    if (h.chunk(buf)) next();
    else setTimeout(() => offer(buf), 250);
  };
  // One buffer for the whole run: the spool writer copies what it keeps, so RSS stays flat.
  const buf = Buffer.allocUnsafe(READ_BYTES);
  const next = (): void => {
    if (stopped) return;
    read(fd, buf, 0, READ_BYTES, null, (error, n) => {
      if (error) {
        // A non-blocking descriptor: no data yet, try again shortly.
        if (error.code === 'EAGAIN' || error.code === 'EWOULDBLOCK') {
          setTimeout(next, 5);
          return;
        }
        stopped = true;
        h.error(error);
        return;
      }
      if (n === 0) {
        stopped = true;
        h.end();
        return;
      }
      offer(buf.subarray(0, n));
    });
  };
  next();
  return {
    stop: () => {
      stopped = true;
    },
  };
}

export type { StdinReaderHandlers };
export { startStdinReader };
