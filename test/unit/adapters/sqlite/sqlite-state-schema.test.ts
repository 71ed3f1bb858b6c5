import { describe, expect, it } from 'vitest';
import { fnv1a32, recordKeyHash, recordKeyLabel, subjectHash } from '#adapters/sqlite/sqlite-state-schema.ts';

/** FNV-1a 64 of the text's code units, its top 11 bits dropped: the stored form must never change. */
const mask53 = (fnv64: bigint): number => Number(fnv64 & ((1n << 53n) - 1n));

/** A plain BigInt FNV-1a 64 over UTF-16 code units: the reference the fast version must match. */
function referenceFnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++)
    h = ((h ^ BigInt(text.charCodeAt(i))) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

describe('the stored hashes of the local state', () => {
  it.each([
    ['', 0xcbf29ce484222325n],
    ['a', 0xaf63dc4c8601ec8cn],
    ['foobar', 0x85944171f73967e8n],
  ])('recordKeyHash(%j) is FNV-1a 64 (published vector) cut to 53 bits', (text, fnv64) => {
    expect(recordKeyHash(text)).toBe(mask53(fnv64));
  });

  it('recordKeyHash matches the BigInt reference on record keys of every code unit range', () => {
    const keys = ['b,2026-11-29 11:19:59+0000,ann@example.com,<id@x>', 'ü€𝄞 mixed', '\uffff\u0000\u8000'];
    for (let i = 0; i < 300; i++)
      keys.push(
        String.fromCharCode(...Array.from({ length: i % 140 }, (_, j) => (i * 7919 + j * 104_729) % 0x10000)),
      );
    for (const key of keys) expect(recordKeyHash(key)).toBe(mask53(referenceFnv1a64(key)));
  });

  it('fnv1a32 and subjectHash are FNV-1a 32 (published vectors)', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(subjectHash('foobar')).toBe(0xbf9cf968);
  });

  it('a record key is shown as h: and 14 hex digits', () => {
    expect(recordKeyLabel(recordKeyHash('a'))).toBe(
      `h:${mask53(0xaf63dc4c8601ec8cn).toString(16).padStart(14, '0')}`,
    );
  });
});
