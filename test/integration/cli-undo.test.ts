/**
 * `pmta-bounce undo` against the MailWizz and Interspire fakes, real wiring (SQLite state, the
 * adapters, the outbox): a batch of wrong unsubscribes chosen by category, by rule and by job is
 * undone exactly — each MailWizz subscription this product changed back to its previous status,
 * Interspire listed as manual (its XML API has no resubscribe), nothing else touched, a list the
 * subscriber had left on their own left unsubscribed; a second undo does nothing; --dry-run
 * changes nothing; without a terminal it refuses to act unless --yes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { FakeMailwizzServer, MAILWIZZ_ENDPOINTS } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { runCliText } from '#test/support/cli-run.ts';
import { seedUndoSubscribers } from '#test/support/undo-subscribers.ts';

const KEY = 'c'.repeat(40);
const IEM_TOKEN = 'iem-token-0123456789abcdef';
const env = { MW_KEY: KEY, IEM_TOKEN };

let dir: string;
let mw: FakeMailwizzServer;
let iem: FakeInterspireServer;
let config: string;
let state: string;
let news: string;
let offers: string;

let mwStatus: ReturnType<typeof seedUndoSubscribers>['mwStatus'];
let iemUnsubscribed: ReturnType<typeof seedUndoSubscribers>['iemUnsubscribed'];

const ACCOUNTING = [
  'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,jobId',
  // Wrongly taken off: job 41 (a misread report), category bad-domain, one unconfirmed subscriber.
  'b,2026-12-01 09:00:00+0000,news@example.com,ann@example.com,5.1.1,smtp;550 5.1.1 user unknown,bad-mailbox,job-41',
  'b,2026-12-01 09:01:00+0000,news@example.com,own@example.com,5.1.1,smtp;550 5.1.1 user unknown,bad-mailbox,job-41',
  'b,2026-12-01 09:02:00+0000,news@example.com,bea@example.com,5.1.2,smtp;550 5.1.2 bad domain,bad-domain,job-42',
  'b,2026-12-01 09:03:00+0000,news@example.com,cy@example.com,5.4.4,smtp;554 5.4.4 routing,routing-errors,job-43',
  // Stays suppressed: none of the selections names it.
  'b,2026-12-01 09:04:00+0000,news@example.com,keep@example.com,5.1.1,smtp;550 5.1.1 user unknown,inactive-mailbox,job-44',
  '',
].join('\n');

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-undo-'));
  state = join(dir, 'state.db');
  mw = await FakeMailwizzServer.start({ mode: 'v2', apiKey: KEY });
  iem = await FakeInterspireServer.start({ username: 'admin', token: IEM_TOKEN });
  ({ news, offers, mwStatus, iemUnsubscribed } = seedUndoSubscribers(mw, iem));
  config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'providers:',
      `  - { id: mw, type: mailwizz, url: "${mw.url}", apiKey: "\${MW_KEY}", maxRetries: 0 }`,
      `  - { id: iem, type: interspire, url: "${iem.url}", username: admin, token: "\${IEM_TOKEN}", maxRetries: 0 }`,
      '',
    ].join('\n'),
  );
  const acct = join(dir, 'acct.csv');
  writeFileSync(acct, ACCOUNTING);
  const processed = await runCliText(['process', acct, '--config', config, '--state', state], { env });
  expect(processed.code).toBe(0);
  expect(mwStatus('ann@example.com', news)).toBe('unsubscribed');
  expect(mwStatus('cy@example.com', news)).toBe('unsubscribed');
});
afterEach(async () => {
  await mw.close();
  await iem.close();
  rmSync(dir, { recursive: true, force: true });
});

const undo = (...args: string[]) =>
  runCliText(['undo', ...args, '--config', config, '--state', state, '--json'], { env });
const exported = async () =>
  (
    JSON.parse(
      (await runCliText(['suppressions', 'export', '--format', 'json', '--state', state])).stdout,
    ) as Array<{
      address: string;
    }>
  ).map((r) => r.address);

describe('undo', () => {
  it('by job: puts back exactly what we changed, leaves the own-request list and everything else', async () => {
    const run = await undo('--job', 'job-41', '--yes');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout);
    // ann: News + Offers back (2), own: Offers back (1); Interspire cannot: manual per address.
    expect(summary).toMatchObject({ selected: 2, undone: 2, done: 3, failed: 0 });
    expect(summary.manual).toEqual([
      { address: 'ann@example.com', provider: 'iem', list: expect.any(String) },
      { address: 'own@example.com', provider: 'iem', list: expect.any(String) },
    ]);
    expect([mwStatus('ann@example.com', news), mwStatus('ann@example.com', offers)]).toEqual([
      'confirmed',
      'confirmed',
    ]);
    expect(mwStatus('own@example.com', offers)).toBe('confirmed');
    expect(mwStatus('own@example.com', news)).toBe('unsubscribed');
    expect(mwStatus('bea@example.com', news)).toBe('unsubscribed');
    expect(iemUnsubscribed('ann@example.com')).toEqual([true]);
    expect(await exported()).toEqual(['bea@example.com', 'cy@example.com', 'keep@example.com']);
    // The audit keeps the suppression and the undo.
    const status = await runCliText(['status', 'ann@example.com', '--state', state]);
    expect(status.stdout).toMatch(
      /decision unsubscribe[\s\S]*provider mw done[\s\S]*decision undo[\s\S]*provider mw resubscribe done/,
    );
  });

  it('by category and by rule: restores the previous status (unconfirmed stays unconfirmed)', async () => {
    const byCategory = await undo('--category', 'bad-domain', '--category', 'routing-errors', '--yes');
    expect(JSON.parse(byCategory.stdout)).toMatchObject({ selected: 2, undone: 2, failed: 0 });
    expect(mwStatus('bea@example.com', news)).toBe('confirmed');
    expect(mwStatus('cy@example.com', news)).toBe('unconfirmed');
    expect(mwStatus('keep@example.com', news)).toBe('unsubscribed');
    const [rule] = (
      JSON.parse(
        (await runCliText(['suppressions', 'export', '--format', 'json', '--state', state])).stdout,
      ) as Array<{
        address: string;
        rule: string;
      }>
    )
      .filter((r) => r.address === 'keep@example.com')
      .map((r) => r.rule);
    expect(rule).toBeTruthy();
    const byRule = await undo('--rule', rule!, '--category', 'inactive-mailbox', '--yes');
    expect(JSON.parse(byRule.stdout)).toMatchObject({ selected: 1, undone: 1 });
    expect(mwStatus('keep@example.com', news)).toBe('confirmed');
  });

  it('a second undo of the same selection does nothing', async () => {
    await undo('--job', 'job-41', '--yes');
    const writes = mw.effects;
    const calls = mw.http.count(MAILWIZZ_ENDPOINTS.searchAll);
    const again = await undo('--job', 'job-41', '--yes');
    expect(JSON.parse(again.stdout)).toMatchObject({ selected: 0, undone: 0, done: 0 });
    expect([mw.effects, mw.http.count(MAILWIZZ_ENDPOINTS.searchAll)]).toEqual([writes, calls]);
  });

  it('--dry-run prints the selection and the planned calls, and changes nothing', async () => {
    const before = await exported();
    const effects = mw.effects;
    const run = await runCliText(
      ['undo', '--job', 'job-41', '--dry-run', '--config', config, '--state', state],
      { env },
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('ann@example.com: suppressed');
    expect(run.stdout).toMatch(/put back: mw l\w+ \(News\) -> confirmed/);
    expect(run.stdout).not.toMatch(/put back: mw l\w+ \(News\)[^\n]*\n[^\n]*own@/);
    expect(await exported()).toEqual(before);
    expect(mw.effects).toBe(effects);
  });

  it('status shows an import, the suppression and the undo in order', async () => {
    const file = join(dir, 'import.csv');
    writeFileSync(file, 'address,reason\nann@example.com,from the old sender\n');
    await undo('--address', 'ann@example.com', '--yes');
    await runCliText(['suppressions', 'import', file, '--config', config, '--state', state], { env });
    const status = await runCliText(['status', 'ann@example.com', '--state', state]);
    expect(status.stdout).toMatch(
      /decision unsubscribe line 2[\s\S]*decision undo[\s\S]*provider mw resubscribe done[\s\S]*decision import line 2: imported from csv[^\n]*from the old sender \(recorded only\)/,
    );
    expect(status.stdout).toContain('SUPPRESSED');
  });

  it('without a terminal and without --yes it refuses; on a terminal "n" does nothing', async () => {
    const refused = await runCliText(['undo', '--job', 'job-41', '--config', config, '--state', state], {
      env,
    });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const declined = await runCliText(['undo', '--job', 'job-41', '--config', config, '--state', state], {
      env,
      tty: true,
      stdin: 'n\n',
    });
    expect(declined.stderr).toContain('nothing done');
    const accepted = await runCliText(['undo', '--job', 'job-41', '--config', config, '--state', state], {
      env,
      tty: true,
      stdin: 'y\n',
    });
    expect(accepted.stdout).toContain('undone=2');
    expect(mwStatus('ann@example.com', news)).toBe('confirmed');
  });

  it('a provider outage during undo: the put-back stays in the outbox and `retry` finishes it', async () => {
    mw.http.inject({ status: 503, times: 2 });
    const run = await undo('--job', 'job-41', '--yes');
    expect(run.code).toBe(3);
    expect(JSON.parse(run.stdout)).toMatchObject({ undone: 2, failed: 3 });
    expect(mwStatus('ann@example.com', news)).toBe('unsubscribed');
    const pending = await runCliText(['status', '--state', state, '--json']);
    expect(JSON.parse(pending.stdout)).toMatchObject({ pending: 2 });
    const retried = await runCliText(['retry', '--config', config, '--state', state, '--json'], { env });
    expect(JSON.parse(retried.stdout)).toMatchObject({ retried: 2, done: 2, pending: 0 });
    expect([mwStatus('ann@example.com', news), mwStatus('own@example.com', offers)]).toEqual([
      'confirmed',
      'confirmed',
    ]);
    expect(mwStatus('own@example.com', news)).toBe('unsubscribed');
  });
});
