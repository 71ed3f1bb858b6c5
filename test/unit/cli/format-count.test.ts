import { describe, expect, it } from 'vitest';
import { formatCount } from '#cli/format-count.ts';

describe('formatCount', () => {
  it.each([
    [0, '0'],
    [7, '7'],
    [999, '999'],
    [1000, '1,000'],
    [12345, '12,345'],
    [123456, '123,456'],
    [1234567, '1,234,567'],
    [1000000000, '1,000,000,000'],
    [-4321, '-4,321'],
    [2.6, '3'],
  ])('%d → %s', (n, text) => {
    expect(formatCount(n)).toBe(text);
  });

  it('writes what toLocaleString("en-US") writes for whole numbers', () => {
    for (let n = 1; n < 1e15; n = n * 7 + 3) expect(formatCount(n)).toBe(n.toLocaleString('en-US'));
  });
});
