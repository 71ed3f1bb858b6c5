/**
 * `suppressions export` on a state written by `process` against the MailWizz fake: every
 * suppression with its provenance and the lists it changed, as CSV (header, formula-safe) and JSON,
 * filtered by --since and --reason. Real wiring: SQLite state, the MailWizz adapter, the fake.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { runCliText } from '#test/support/cli-run.ts';

const KEY = 'e'.repeat(40);
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-export-'));
const state = join(dir, 'state.db');
const env = { MW_KEY: KEY };
let fake: FakeMailwizzServer;

beforeAll(async () => {
  fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: KEY });
  const news = fake.addList('News');
  const offers = fake.addList('Offers');
  fake.addSubscriber(news, 'alice@example.com');
  fake.addSubscriber(offers, 'alice@example.com', 'unsubscribed');
  fake.addSubscriber(news, '=cmd@example.com');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `providers:\n  - { id: mw, type: mailwizz, url: "${fake.url}", apiKey: "\${MW_KEY}" }\n`,
  );
  const input = join(dir, 'acct.csv');
  writeFileSync(
    input,
    [
      'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,jobId',
      'b,2026-11-01 10:00:00+0000,news@example.com,alice@example.com,5.1.1,smtp;550 5.1.1 no such user,bad-mailbox,job-7',
      'f,2026-11-20 10:00:00+0000,news@example.com,=cmd@example.com,,,,job-8',
      '',
    ].join('\n'),
  );
  const run = await runCliText(['process', input, '--config', config, '--state', state], { env });
  expect(run.code).toBe(0);
});
afterAll(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('suppressions export', () => {
  it('writes CSV with a header, provenance and the lists changed; formula cells are defused', async () => {
    const run = await runCliText(['suppressions', 'export', '--state', state]);
    expect(run.code).toBe(0);
    const rows = parse(run.stdout, { columns: true }) as Array<Record<string, string>>;
    expect(rows.map((r) => r.address)).toEqual(['alice@example.com', "'=cmd@example.com"]);
    const [alice, cmd] = rows as [Record<string, string>, Record<string, string>];
    expect(alice).toMatchObject({
      suppressed_at: '2026-11-01T10:00:00.000Z',
      kind: 'bounce',
      category: 'bad-mailbox',
      record_type: 'b',
      job: 'job-7',
      providers_done: 'mw',
    });
    expect(alice.rule).not.toBe('');
    // Offers was unsubscribed before: not ours, not listed.
    expect(alice.lists_changed).toMatch(/^mw:l\w+ \(News\)$/);
    expect(cmd).toMatchObject({ kind: 'complaint', record_type: 'f', job: 'job-8' });
  });

  it('JSON, filtered by --since and --reason', async () => {
    const since = await runCliText([
      'suppressions',
      'export',
      '--format',
      'json',
      '--since',
      '2026-11-10',
      '--state',
      state,
    ]);
    expect((JSON.parse(since.stdout) as Array<{ address: string }>).map((r) => r.address)).toEqual([
      '=cmd@example.com',
    ]);
    const reason = await runCliText([
      'suppressions',
      'export',
      '--format=json',
      '--reason',
      'BAD-MAILBOX',
      '--state',
      state,
    ]);
    const [only] = JSON.parse(reason.stdout) as Array<{ address: string; listsChanged: unknown[] }>;
    expect(only?.address).toBe('alice@example.com');
    expect(only?.listsChanged).toHaveLength(1);
    const none = await runCliText([
      'suppressions',
      'export',
      '--format=json',
      '--reason',
      'nothing-like-it',
      '--state',
      state,
    ]);
    expect(JSON.parse(none.stdout)).toEqual([]);
  });

  it('refuses a bad --since or --format with a usage error naming it', async () => {
    const since = await runCliText(['suppressions', 'export', '--since', 'yesterday-ish', '--state', state]);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since');
    const format = await runCliText(['suppressions', 'export', '--format', 'xml', '--state', state]);
    expect(format.code).toBe(2);
  });
});
