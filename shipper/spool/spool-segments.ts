/**
 * The spool directory: numbered segment files holding raw accounting bytes exactly as read, each
 * starting with the header line in force when it was opened. Shared bookkeeping between the writer
 * (stdin side) and the reader (SQS side); a segment is deleted only when it is closed, fully read
 * and every message cut from it was acknowledged by SQS.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, statSync, unlink } from 'node:fs';
import { join } from 'node:path';

const SEGMENT_SUFFIX = '.seg';

interface Segment {
  seq: number;
  path: string;
  /** Bytes written so far (the writer updates it as it appends). */
  size: number;
  /** No more bytes will be appended (rotated, finished, or left by an earlier run). */
  closed: boolean;
  /** The reader has consumed every byte. */
  fullyRead: boolean;
  /** Messages cut from this segment and not yet acknowledged. */
  outstanding: number;
}

class SpoolSegments {
  readonly dir: string;
  private readonly segments = new Map<number, Segment>();
  private total = 0;
  private lastSeq = 0;
  /** Called when a segment gets new bytes or is closed (wakes the reader). */
  onChange: () => void = () => {};
  /** Deletions under way on the thread pool (a large file's unlink can take milliseconds). */
  private unlinking = 0;
  private unlinked: Array<() => void> = [];
  /** A deletion failed for another reason than "already gone" (reported by the caller's log). */
  onUnlinkError: (path: string, error: NodeJS.ErrnoException) => void = () => {};

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    for (const name of readdirSync(dir)) {
      const seq = Number.parseInt(name.slice(0, -SEGMENT_SUFFIX.length), 10);
      if (!name.endsWith(SEGMENT_SUFFIX) || !Number.isSafeInteger(seq)) continue;
      const path = join(dir, name);
      const size = statSync(path).size;
      this.segments.set(seq, { seq, path, size, closed: true, fullyRead: false, outstanding: 0 });
      this.total += size;
      this.lastSeq = Math.max(this.lastSeq, seq);
    }
  }

  get totalBytes(): number {
    return this.total;
  }

  get count(): number {
    return this.segments.size;
  }

  /** Creates the next segment file and returns it with its open descriptor. */
  create(): { segment: Segment; fd: number } {
    const { segment, fd } = createSegmentFile(this.dir, ++this.lastSeq);
    this.segments.set(segment.seq, segment);
    return { segment, fd };
  }

  grew(segment: Segment, bytes: number): void {
    segment.size += bytes;
    this.total += bytes;
    this.onChange();
  }

  shrank(segment: Segment, bytes: number): void {
    segment.size -= bytes;
    this.total -= bytes;
  }

  close(segment: Segment): void {
    segment.closed = true;
    this.onChange();
  }

  /** Oldest segment after `seq` (in write order), if any. */
  next(afterSeq: number): Segment | undefined {
    let best: Segment | undefined;
    for (const s of this.segments.values()) {
      if (s.seq > afterSeq && (best === undefined || s.seq < best.seq)) best = s;
    }
    return best;
  }

  /** Deletes the segment if SQS holds everything that was in it. */
  release(segment: Segment): void {
    if (!segment.closed || !segment.fullyRead || segment.outstanding > 0) return;
    if (!this.segments.delete(segment.seq)) return;
    this.total -= segment.size;
    // Off the event loop: a kill before it completes only means the segment is sent again.
    this.unlinking++;
    unlink(segment.path, (error) => {
      if (error && error.code !== 'ENOENT') this.onUnlinkError(segment.path, error);
      if (--this.unlinking === 0) for (const done of this.unlinked.splice(0)) done();
    });
  }

  /** Resolves once every deletion started so far has finished. */
  settled(): Promise<void> {
    if (this.unlinking === 0) return Promise.resolve();
    return new Promise((resolve) => this.unlinked.push(resolve));
  }
}

function createSegmentFile(dir: string, seq: number): { segment: Segment; fd: number } {
  const path = join(dir, `${String(seq).padStart(12, '0')}${SEGMENT_SUFFIX}`);
  const fd = openSync(path, 'wx', 0o640);
  syncDir(dir);
  return { segment: { seq, path, size: 0, closed: false, fullyRead: false, outstanding: 0 }, fd };
}

function syncDir(dir: string): void {
  // A new file's directory entry must be durable too, or a power cut could orphan its data.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the data itself is still fsync'd.
  }
}

export type { Segment };
export { SEGMENT_SUFFIX, SpoolSegments };
