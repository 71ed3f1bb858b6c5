import { describe, expect, it } from 'vitest';
import { BufferPool } from '../../../../shipper/message/buffer-pool.ts';

describe('BufferPool', () => {
  it('gives buffers of the exact length asked, and reuses given-back memory', () => {
    const pool = new BufferPool(2, 1024);
    const a = pool.take(1500);
    expect(a.length).toBe(1500);
    expect(a.buffer.byteLength).toBe(2048);
    pool.give(a);
    const b = pool.take(100);
    expect(b.buffer).toBe(a.buffer);
    expect(b.length).toBe(100);
    const c = pool.take(100);
    expect(c.buffer).not.toBe(a.buffer);
  });

  it('takes the smallest spare block that fits, and never keeps one block twice', () => {
    const pool = new BufferPool(4, 1024);
    const small = pool.take(1000);
    const big = pool.take(5000);
    pool.give(big);
    pool.give(small);
    pool.give(small);
    expect(pool.take(10).buffer).toBe(small.buffer);
    expect(pool.take(10).buffer).toBe(big.buffer);
    expect(pool.take(10).buffer).not.toBe(small.buffer);
  });

  it('keeps at most maxKept spares and ignores views it did not hand out', () => {
    const pool = new BufferPool(1, 1024);
    const a = pool.take(10);
    const b = pool.take(10);
    pool.give(a);
    pool.give(b);
    pool.give(Buffer.from('shared pool slice')); // small Buffers live inside Node's shared pool
    expect(pool.take(10).buffer).toBe(a.buffer);
    expect(pool.take(10).buffer).not.toBe(b.buffer);
  });
});
