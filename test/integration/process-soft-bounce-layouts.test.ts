/**
 * `process` over a state whose soft_bounces is keyed by the record key's text (the layout before
 * the hash, docs/interfaces.md migration note issue 14) and over the same state keyed by the hash:
 * a dry run reads either as it is and decides the same for every record; a real run migrates the
 * text-keyed one first and then decides the same too; `status --json` shows `h:` keys.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordKeyHash, recordKeyLabel } from '#adapters/sqlite/sqlite-state-schema.ts';
import { ACCT_HEADER, bounceRecord } from '#test/support/builders.ts';
import { runCliText } from '#test/support/cli-run.ts';
import { readAccounting } from '#test/support/read-accounting.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 20, 8, 0, 0);
const ADDRESSES = ['ann@example.com', 'bob@example.net', 'cy@example.org', 'di@example.com'];

const soft = (rcpt: string, at: number, job: string) =>
  bounceRecord({
    rcpt,
    at,
    job,
    status: '4.2.2 (mailbox full)',
    category: 'quota-issues',
    diag: 'smtp;452 4.2.2 Mailbox full',
  });

/** The first run: address i has i + 1 soft bounces, a day apart. */
const FIRST = ADDRESSES.flatMap((rcpt, i) =>
  Array.from({ length: i + 1 }, (_, n) => soft(rcpt, T0 + n * DAY, `job-${n}`)),
);
/** The second: each address's first record again (a replayed file), then a new one days later. */
const SECOND = ADDRESSES.flatMap((rcpt) => [soft(rcpt, T0, 'job-0'), soft(rcpt, T0 + 6 * DAY, 'job-new')]);

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-soft-layouts-cli-'));
const hashed = join(dir, 'hashed.db');
const text = join(dir, 'text.db');
const second = join(dir, 'second.csv');
/** Every soft bounce counts: with one per UTC day (the default) a replay counted twice would not show. */
const config = join(dir, 'config.yaml');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The accounting reader's key of every record in `lines` (what `process` hashes). */
function recordKeys(lines: readonly string[]): string[] {
  return readAccounting([ACCT_HEADER, ...lines].join('\n')).map((o) => {
    if (!o.ok) throw new Error(`not a record: ${JSON.stringify(o)}`);
    return o.event.key;
  });
}

/**
 * The hashed state as the text-keyed layout would hold it: each row's hash traced back to the
 * record key it came from (every row must trace back, or `process` stored something else).
 */
function writeTextKeyedCopy(): void {
  const keys = new Map(recordKeys(FIRST).map((k) => [recordKeyHash(k), k]));
  new Database(hashed, { readonly: true }).exec(`VACUUM INTO '${text}'`);
  const db = new Database(text);
  const rows = db.prepare('SELECT address, record_hash, at FROM soft_bounces').all() as Array<{
    address: string;
    record_hash: number;
    at: number;
  }>;
  expect(rows).toHaveLength(FIRST.length);
  db.exec(`DROP TABLE soft_bounces;
    CREATE TABLE soft_bounces (address TEXT NOT NULL, record_key TEXT NOT NULL, at INTEGER NOT NULL,
      PRIMARY KEY (address, record_key)) WITHOUT ROWID;`);
  const insert = db.prepare('INSERT INTO soft_bounces (address, record_key, at) VALUES (?, ?, ?)');
  for (const r of rows) {
    expect(keys.has(r.record_hash)).toBe(true);
    insert.run(r.address, keys.get(r.record_hash), r.at);
  }
  db.close();
}

/** `process SECOND` on `state`; the per-record report as [line, action, reason]. */
async function processSecond(state: string, dryRun: boolean): Promise<unknown[]> {
  const report = join(dir, `report-${Math.random().toString(36).slice(2)}.jsonl`);
  const args = ['process', second, '--config', config, '--state', state, '--report', report];
  if (dryRun) args.push('--dry-run');
  const run = await runCliText(args);
  expect(run.code, run.stderr).toBe(0);
  return readFileSync(report, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { line: number; action: string; reason: string })
    .map((r) => [r.line, r.action, r.reason]);
}

const softColumns = (state: string) => {
  const db = new Database(state, { readonly: true });
  const columns = (db.prepare('PRAGMA table_info(soft_bounces)').all() as Array<{ name: string }>).map(
    (c) => c.name,
  );
  db.close();
  return columns;
};

beforeAll(async () => {
  const first = join(dir, 'first.csv');
  writeFileSync(first, `${[ACCT_HEADER, ...FIRST].join('\n')}\n`);
  writeFileSync(second, `${[ACCT_HEADER, ...SECOND].join('\n')}\n`);
  writeFileSync(config, 'policy:\n  soft:\n    onePerUtcDay: false\n');
  expect((await runCliText(['process', first, '--config', config, '--state', hashed])).code).toBe(0);
  writeTextKeyedCopy();
});

describe('process over a text-keyed and a hashed soft_bounces', () => {
  it('a dry run decides the same over either, each replayed record counted once', async () => {
    const overText = await processSecond(text, true);
    expect(await processSecond(hashed, true)).toEqual(overText);
    // Address i had i + 1 bounces: its replay counts i + 1, its new record i + 2.
    expect(overText.map((r) => (r as [number, string, string])[2].match(/\((\d+) within/)?.[1])).toEqual(
      ADDRESSES.flatMap((_, i) => [String(i + 1), String(i + 2)]),
    );
    // A dry run opens the state read-only: the text-keyed one is not migrated.
    expect(softColumns(text)).toEqual(['address', 'record_key', 'at']);
  });

  it('a real run migrates the text-keyed state first and decides as over the hashed one', async () => {
    const hashedCopy = join(dir, 'hashed-copy.db');
    copyFileSync(hashed, hashedCopy);
    const dry = await processSecond(hashed, true);
    expect(await processSecond(text, false)).toEqual(dry);
    expect(softColumns(text)).toEqual(['address', 'record_hash', 'at']);
    expect(await processSecond(hashedCopy, false)).toEqual(dry);
  });

  it('status --json shows each soft bounce as h: and the hash of its record key', async () => {
    const run = await runCliText(['status', 'bob@example.net', '--state', hashed, '--json']);
    const keys = recordKeys(FIRST.filter((l) => l.includes('bob@example.net')));
    expect(JSON.parse(run.stdout).softBounces).toEqual(
      keys.map((k, n) => ({ at: T0 + n * DAY, recordKey: recordKeyLabel(recordKeyHash(k)) })),
    );
  });
});
