/**
 * `suppressions import` of each supported format from fixture files (test/fixtures/suppressions/,
 * written by this project): rows recorded, bad rows reported with their line numbers and kept as
 * rejects; without --apply nothing is called and a later record for an imported address is
 * already-suppressed with no provider call; with --apply the MailWizz fake unsubscribes them.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMailwizzServer, MAILWIZZ_ENDPOINTS } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { runCliText } from '#test/support/cli-run.ts';

const KEY = 'd'.repeat(40);
const FIXTURES = join(import.meta.dirname, '../fixtures/suppressions');
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-import-'));
const env = { MW_KEY: KEY };
let fake: FakeMailwizzServer;
let config: string;
let list: string;

beforeAll(async () => {
  fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: KEY });
  list = fake.addList('News');
  for (const email of ['mg1@example.com', 'mg2@example.com', 'ses1@example.com', 'kept@example.com'])
    fake.addSubscriber(list, email);
  config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `providers:\n  - { id: mw, type: mailwizz, url: "${fake.url}", apiKey: "\${MW_KEY}", maxRetries: 0 }\n`,
  );
});
afterAll(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function importFile(state: string, file: string, format: string, ...extra: string[]) {
  const run = await runCliText(
    [
      'suppressions',
      'import',
      join(FIXTURES, file),
      '--format',
      format,
      '--json',
      '--config',
      config,
      '--state',
      state,
      ...extra,
    ],
    { env },
  );
  return { ...run, summary: JSON.parse(run.stdout || '{}') as Record<string, unknown> };
}

describe('suppressions import: each format, bad rows by line', () => {
  it.each([
    ['ours.csv', 'csv', 2, [{ line: 3, reason: expect.stringContaining('not an email address') }]],
    [
      'mailgun-bounces.csv',
      'mailgun',
      3,
      [{ line: 5, reason: expect.stringContaining('not an email address') }],
    ],
    ['ses-suppressed-destinations.csv', 'ses', 2, [{ line: 4, reason: 'empty address' }]],
    [
      'sendgrid-bounces.csv',
      'sendgrid',
      2,
      [{ line: 4, reason: expect.stringContaining('not an email address') }],
    ],
    [
      'mailwizz-subscribers.csv',
      'mailwizz',
      2,
      [{ line: 5, reason: expect.stringContaining('not an email address') }],
    ],
  ])('%s (--format %s): %i imported', async (file, format, imported, rejects) => {
    const state = join(dir, `${format}.db`);
    const run = await importFile(state, file, format);
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({
      imported,
      already: 0,
      rejected: rejects.length,
      rejects,
      actions: 0,
    });
    for (const r of rejects) expect(run.stderr).toContain(`line ${r.line}:`);
    const exported = await runCliText(['suppressions', 'export', '--format', 'json', '--state', state]);
    const rows = JSON.parse(exported.stdout) as Array<{ recordType: string; reason: string }>;
    expect(rows).toHaveLength(imported);
    expect(rows.every((r) => r.recordType === `import:${format}`)).toBe(true);
  });

  it('keeps the times and reasons of the source, skips non-suppressed MailWizz statuses', async () => {
    const state = join(dir, 'details.db');
    await importFile(state, 'mailgun-bounces.csv', 'mailgun');
    const exported = await runCliText(['suppressions', 'export', '--format', 'json', '--state', state]);
    const mg1 = (JSON.parse(exported.stdout) as Array<Record<string, string>>).find(
      (r) => r.address === 'mg1@example.com',
    );
    expect(mg1?.suppressedAt).toBe('2026-10-21T11:02:55.000Z');
    expect(mg1?.reason).toContain('5.1.1 The email account');
    const mw = await importFile(join(dir, 'mw2.db'), 'mailwizz-subscribers.csv', 'mailwizz');
    expect(mw.summary).toMatchObject({ rows: 4, imported: 2, skipped: 1, rejected: 1 });
  });

  it('an unclosed quote is one reject from the line it opened on; the rows before it are kept', async () => {
    const file = join(dir, 'unclosed.csv');
    writeFileSync(
      file,
      'address,reason\nok@example.com,fine\n"open@example.com,never closed\nlater@example.com,x\n',
    );
    const state = join(dir, 'unclosed.db');
    const run = await runCliText(
      ['suppressions', 'import', file, '--json', '--config', config, '--state', state],
      { env },
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      imported: 1,
      rejected: 1,
      rejects: [{ line: 3, reason: expect.stringContaining('CSV_QUOTE_NOT_CLOSED') }],
    });
    expect(run.stderr).toContain('unclosed.csv line 3: CSV_QUOTE_NOT_CLOSED');
  });

  it('refuses a file whose header lacks the address column, naming it', async () => {
    const run = await importFile(join(dir, 'wrong.db'), 'sendgrid-bounces.csv', 'ses');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/line 1: no address column \(emailaddress\)/);
  });
});

describe('recorded only vs --apply', () => {
  it('without --apply: no provider call, and a later bounce of an imported address is already-suppressed', async () => {
    const state = join(dir, 'record-only.db');
    const before = fake.http.count(MAILWIZZ_ENDPOINTS.searchAll);
    const run = await importFile(state, 'mailgun-bounces.csv', 'mailgun');
    expect(run.summary).toMatchObject({ imported: 3, actions: 0 });
    const acct = join(dir, 'later.csv');
    writeFileSync(
      acct,
      'type,timeLogged,orig,rcpt,dsnStatus,bounceCat\nb,1793800000,news@example.com,mg1@example.com,5.1.1,bad-mailbox\n',
    );
    const report = join(dir, 'report.jsonl');
    const processed = await runCliText(
      ['process', acct, '--config', config, '--state', state, '--report', report],
      { env },
    );
    expect(processed.code).toBe(0);
    expect((await import('node:fs')).readFileSync(report, 'utf8')).toContain('"action":"already-suppressed"');
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.searchAll)).toBe(before);
    expect(fake.subscribers.find((s) => s.email === 'mg1@example.com')?.status).toBe('confirmed');
  });

  it('with --apply: the outbox unsubscribes every imported address at the provider, once', async () => {
    const state = join(dir, 'apply.db');
    const run = await importFile(state, 'mailgun-bounces.csv', 'mailgun', '--apply');
    expect(run.code).toBe(0);
    expect(run.summary).toMatchObject({ imported: 3, actions: 3, done: 3, failed: 0 });
    const status = (email: string) => fake.subscribers.find((s) => s.email === email)?.status;
    expect([status('mg1@example.com'), status('mg2@example.com'), status('kept@example.com')]).toEqual([
      'unsubscribed',
      'unsubscribed',
      'confirmed',
    ]);
    const again = await importFile(state, 'mailgun-bounces.csv', 'mailgun', '--apply');
    expect(again.summary).toMatchObject({ imported: 0, already: 3, actions: 0 });
  });
});
