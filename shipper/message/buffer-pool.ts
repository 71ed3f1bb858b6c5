/**
 * Reused backing memory for buffers with a clear end of life (message bodies until SQS acknowledges
 * them, request bodies until the answer arrives). A Buffer's memory is freed only when the garbage
 * collector gets to its wrapper object, which for buffers living a few hundred milliseconds meant
 * a full old-generation collection: ~15 MB of released bodies waited for one. Handing the memory
 * back explicitly keeps it flat.
 */

class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  /** Blocks this pool created: anything else (Node's shared small-buffer pool!) is never kept. */
  private readonly owned = new WeakSet<ArrayBuffer>();
  private readonly maxKept: number;
  private readonly granule: number;

  /** Keeps up to `maxKept` spare blocks; sizes are rounded up to `granule` so blocks fit again. */
  constructor(maxKept: number, granule = 64 * 1024) {
    this.maxKept = maxKept;
    this.granule = granule;
  }

  /** A buffer of exactly `bytes` (uninitialised), backed by a spare block when one is big enough. */
  take(bytes: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = (this.free[i] as ArrayBuffer).byteLength;
      if (size >= bytes && (best < 0 || size < (this.free[best] as ArrayBuffer).byteLength)) best = i;
    }
    let block: ArrayBuffer;
    if (best >= 0) block = this.free.splice(best, 1)[0] as ArrayBuffer;
    else {
      block = new ArrayBuffer(Math.ceil(Math.max(1, bytes) / this.granule) * this.granule);
      this.owned.add(block);
    }
    return Buffer.from(block, 0, bytes);
  }

  /** `buf` (from take) is no longer used anywhere: its block may back the next take. */
  give(buf: Buffer): void {
    const block = buf.buffer;
    if (!(block instanceof ArrayBuffer) || !this.owned.has(block) || this.free.includes(block)) return;
    if (this.free.length < this.maxKept) this.free.push(block);
  }
}

export { BufferPool };
