/**
 * soft_bounces keyed by the record key's 53-bit hash (docs/interfaces.md, migration note issue 14):
 * every reader of a state in either earlier layout (keyed by the key's text) or the hashed one gives
 * the same counts; the first writer migrates a text-keyed table in place with every row, time and
 * window kept, and a record replayed after the migration still counts once; `status` shows `h:` keys.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DryRunSuppressionStore } from '#adapters/sqlite/dry-run-suppression-store.ts';
import { recordKeyHash, recordKeyLabel } from '#adapters/sqlite/sqlite-state-schema.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import type { SoftBounceRequest, SuppressionStore } from '#core/ports.ts';
import { createRandom, pmtaTime } from '#test/support/builders.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);
const WINDOW = 7 * DAY;
const ADDRESSES = 24;

/** The two text-keyed layouts a state file may still have, as those versions created them. */
const TEXT_LAYOUTS = {
  'rowid table (before issue 14)': `CREATE TABLE soft_bounces (address TEXT NOT NULL, record_key TEXT NOT NULL,
      at INTEGER NOT NULL, PRIMARY KEY (address, record_key));
    CREATE INDEX soft_bounces_at ON soft_bounces (address, at);`,
  'text-keyed B-tree (issue 14)': `CREATE TABLE soft_bounces (address TEXT NOT NULL, record_key TEXT NOT NULL,
      at INTEGER NOT NULL, PRIMARY KEY (address, record_key)) WITHOUT ROWID;`,
} as const;
/** The rest of an old state that the readers open (suppressions as first released). */
const OLD_REST = `CREATE TABLE suppressions (subject TEXT PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,
    category TEXT, reason TEXT NOT NULL, record_key TEXT NOT NULL, providers_done TEXT NOT NULL DEFAULT '[]');
  CREATE TABLE soft_resets (address TEXT PRIMARY KEY, at INTEGER NOT NULL);`;

/**
 * Seeded soft bounces: per address 1-4 within three days after T0 (all inside one window) and one
 * 30 days earlier (outside every window asked below), keys as the accounting reader makes them.
 */
function storedBounces(): SoftBounceRequest[] {
  const random = createRandom(14);
  const rows: SoftBounceRequest[] = [];
  for (let a = 0; a < ADDRESSES; a++) {
    const address = `user${a}@example${a % 5}.com`;
    const ats = [T0 - 30 * DAY];
    for (let n = 1 + Math.floor(random() * 4); n > 0; n--) ats.push(T0 + Math.floor(random() * 3 * DAY));
    for (const [i, at] of ats.entries())
      rows.push({
        address,
        at,
        recordKey: `b|${address}|${pmtaTime(at)}|job-${a}-${i}||4.2.2 (mailbox full)|`,
      });
  }
  return rows;
}

const STORED = storedBounces();
const addresses = [...new Set(STORED.map((r) => r.address))];
const inWindow = (address: string) => STORED.filter((r) => r.address === address && r.at >= T0).length;

/** Per address: one of its stored records again, then a new one two days after T0. */
const PROBES: SoftBounceRequest[] = addresses.flatMap((address) => [
  STORED.findLast((r) => r.address === address)!,
  { address, at: T0 + 2 * DAY, recordKey: `b|${address}|${pmtaTime(T0 + 2 * DAY)}|job-new||4.2.2|` },
]);
/** The oracle: the replay counts the address's bounces in the window, the new record one more. */
const EXPECTED = addresses.flatMap((address) => [inWindow(address), inWindow(address) + 1]);

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-soft-layouts-'));
const hashed = join(dir, 'hashed.db');
/** A base of each layout, written once; readers only read them. */
const BASES: Array<[layout: string, path: string]> = [
  ...Object.keys(TEXT_LAYOUTS).map((layout, i): [string, string] => [layout, join(dir, `text-${i}.db`)]),
  ['hashed table (current)', hashed],
];
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeTextLayout(path: string, ddl: string): void {
  const db = new Database(path);
  db.exec(ddl + OLD_REST);
  const insert = db.prepare('INSERT INTO soft_bounces (address, record_key, at) VALUES (?, ?, ?)');
  for (const r of STORED) insert.run(r.address, r.recordKey, r.at);
  db.close();
}

function softTable(path: string): { sql: string; columns: string[]; others: string[]; rows: unknown[] } {
  const db = new Database(path, { readonly: true });
  const sql = (
    db.prepare("SELECT sql FROM sqlite_master WHERE name = 'soft_bounces'").get() as { sql: string }
  ).sql;
  const columns = (db.prepare('PRAGMA table_info(soft_bounces)').all() as Array<{ name: string }>).map(
    (c) => c.name,
  );
  const others = (
    db
      .prepare("SELECT name FROM sqlite_master WHERE name LIKE 'soft_bounces%' AND name <> 'soft_bounces'")
      .all() as Array<{ name: string }>
  ).map((t) => t.name);
  const rows = db.prepare(`SELECT * FROM soft_bounces ORDER BY address, at, ${columns[1]!}`).all();
  db.close();
  return { sql, columns, others, rows };
}

/** The rows of the hashed layout for STORED, in softTable's order (ASCII addresses: JS order is SQL's). */
const HASHED_ROWS = STORED.map((r) => ({
  address: r.address,
  record_hash: recordKeyHash(r.recordKey),
  at: r.at,
}))
  .sort((x, y) => x.at - y.at || x.record_hash - y.record_hash)
  .sort((x, y) => (x.address < y.address ? -1 : x.address > y.address ? 1 : 0));

/** Read-only readers of a base: the overlay store, and the dry run's in memory and in its scratch file. */
const READERS: Array<[string, (base: string) => SuppressionStore]> = [
  ['overlay store', (base) => new SqliteSuppressionStore({ path: ':memory:', basePath: base })],
  ['dry run in memory', (base) => new DryRunSuppressionStore({ basePath: base })],
  ['dry run in its scratch file', (base) => new DryRunSuppressionStore({ basePath: base, limit: 1 })],
];

async function countOver(base: string, open: (base: string) => SuppressionStore): Promise<number[]> {
  const store = open(base);
  try {
    return await store.recordSoftBounces(PROBES, WINDOW);
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  for (const [i, ddl] of Object.values(TEXT_LAYOUTS).entries()) writeTextLayout(BASES[i]![1], ddl);
  const store = new SqliteSuppressionStore({ path: hashed });
  await store.recordSoftBounces(STORED, WINDOW);
  await store.close();
});

describe('soft_bounces keyed by the record key hash', () => {
  it('the current writer stores (address, record_hash, at), one B-tree, the hash of each key', () => {
    const table = softTable(hashed);
    expect(table.sql).toMatch(/WITHOUT ROWID/);
    expect(table.columns).toEqual(['address', 'record_hash', 'at']);
    expect(table.others).toEqual([]);
    expect(table.rows).toEqual(HASHED_ROWS);
  });

  describe.each(READERS)('a read-only reader (%s)', (_reader, open) => {
    it.each(BASES)(
      'over a %s base counts a replayed record once and a new one on top',
      async (_layout, base) => {
        const before = softTable(base);
        expect(await countOver(base, open)).toEqual(EXPECTED);
        // Opened read-only: the base is left in its layout, untouched.
        expect(softTable(base)).toEqual(before);
      },
    );
  });

  it.each(Object.entries(TEXT_LAYOUTS))(
    'the first writer migrates a %s: every row hashed, times and windows kept, replays still once',
    async (layout, ddl) => {
      const path = join(dir, `migrate-${layout.length}.db`);
      writeTextLayout(path, ddl);
      const writer = new SqliteSuppressionStore({ path });
      const table = softTable(path);
      expect(table.columns).toEqual(['address', 'record_hash', 'at']);
      expect(table.sql).toMatch(/WITHOUT ROWID/);
      // The renamed table and the old (address, at) index are gone.
      expect(table.others).toEqual([]);
      expect(table.rows).toEqual(HASHED_ROWS);
      expect(await writer.recordSoftBounces(PROBES, WINDOW)).toEqual(EXPECTED);
      expect(softTable(path).rows).toHaveLength(STORED.length + addresses.length);
      // Both probes again: each is stored now, so neither adds a row or a count.
      const again = addresses.flatMap((address) => [inWindow(address) + 1, inWindow(address) + 1]);
      expect(await writer.recordSoftBounces(PROBES, WINDOW)).toEqual(again);
      expect(softTable(path).rows).toHaveLength(STORED.length + addresses.length);
      await writer.close();
      // A migrated file read as a dry run's base counts as the file written hashed from the start.
      const copy = join(dir, `migrated-copy-${layout.length}.db`);
      copyFileSync(path, copy);
      expect(await countOver(copy, READERS[1]![1])).toEqual(again);
    },
  );

  it('status shows each soft bounce as its hash, h: and 14 hex digits, in time order', async () => {
    const store = new SqliteSuppressionStore({ path: hashed });
    const address = addresses[3]!;
    const own = STORED.filter((r) => r.address === address).sort((x, y) => x.at - y.at);
    const { softBounces } = await store.status(address);
    await store.close();
    expect(softBounces).toEqual(
      own.map((r) => ({ at: r.at, recordKey: recordKeyLabel(recordKeyHash(r.recordKey)) })),
    );
    for (const b of softBounces) expect(b.recordKey).toMatch(/^h:[0-9a-f]{14}$/);
  });
});
