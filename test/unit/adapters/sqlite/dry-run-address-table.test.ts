import { describe, expect, it } from 'vitest';
import { AddressTable } from '#adapters/sqlite/dry-run-address-table.ts';

const address = (i: number) => `user${i}@example${i % 7}.com`;

describe('AddressTable (the dry run holds addresses by digest)', () => {
  it('finds every address it took, through several doublings, and no other', () => {
    const table = new AddressTable(50_000, 1);
    for (let i = 0; i < 20_000; i++) table.set(table.insert(address(i)), 0, i);
    expect(table.size).toBe(20_000);
    for (let i = 0; i < 20_000; i++) expect(table.get(table.find(address(i)), 0)).toBe(i);
    for (let i = 20_000; i < 25_000; i++) expect(table.find(address(i))).toBe(-1);
  });

  it('takes an address once, with its columns NaN until set', () => {
    const table = new AddressTable(10, 2);
    const slot = table.insert('a@x.com');
    expect([table.get(slot, 0), table.get(slot, 1)]).toEqual([Number.NaN, Number.NaN]);
    table.set(slot, 1, 5);
    expect(table.insert('a@x.com')).toBe(slot);
    expect(table.get(slot, 1)).toBe(5);
    expect(table.size).toBe(1);
  });

  it('is full at its limit: a new address gets -1, a known one its slot', () => {
    const table = new AddressTable(3);
    for (const a of ['a@x.com', 'b@x.com', 'c@x.com']) expect(table.insert(a)).toBeGreaterThanOrEqual(0);
    expect(table.full).toBe(true);
    expect(table.insert('d@x.com')).toBe(-1);
    expect(table.insert('b@x.com')).toBe(table.find('b@x.com'));
  });
});
