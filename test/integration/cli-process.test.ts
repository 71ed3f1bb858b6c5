/**
 * `pmta-bounce` end to end: the real bin in a child process, SQLite state in a temp dir, and a
 * protocol-faithful MailWizz fake on 127.0.0.1.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMailwizzServer, MAILWIZZ_ENDPOINTS } from '#sandbox/fakes/fake-mailwizz-server.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pmta-bounce.js');
const API_KEY = 'f'.repeat(40);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env, PMTA_BOUNCE_CONFIG: options.env?.PMTA_BOUNCE_CONFIG ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

const HEADER = 'type,timeLogged,orig,rcpt,dsnStatus,bounceCat,jobId';
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pmta-bounce process without providers (the embedded default)', () => {
  const state = join(dir, 'plain.db');
  const file = join(dir, 'acct.csv');
  writeFileSync(
    file,
    [
      HEADER,
      'b,1764000000,news@example.com,Gone@Example.com,5.1.1,bad-mailbox,',
      'b,1764000001,news@example.com,full@example.com,5.2.2,quota-issues,',
      'b,1764000002,news@example.com,blocked@example.com,5.7.1,spam-related,',
      'd,1764000003,news@example.com,fine@example.com,2.0.0,,',
      'zz,broken',
    ].join('\r\n'),
  );

  it('records decisions, prints the JSON summary, and a second run unsubscribes nobody new', async () => {
    const first = await cli(['process', file, '--state', state, '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      records: 5,
      unsubscribed: 1,
      alreadySuppressed: 0,
      softBounces: 1,
      ignored: 2,
      rejected: 1,
      failed: 0,
      parked: 0,
      pending: 0,
      providerCalls: {},
      guardrails: [],
    });
    const second = await cli(['process', file, '--state', state, '--json']);
    expect(JSON.parse(second.stdout)).toMatchObject({
      unsubscribed: 0,
      alreadySuppressed: 1,
      softBounces: 1,
    });
  });

  it('status shows the suppression and its audit trail', async () => {
    const status = await cli(['status', 'GONE@example.com', '--state', state]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain('gone@example.com: SUPPRESSED');
    expect(status.stdout).toMatch(/decision unsubscribe line 2: category=bad-mailbox/);
    expect(status.stdout).toMatch(/decision already-suppressed line 2/);
  });

  it('--report writes one JSON object per record; --dry-run changes nothing', async () => {
    const report = join(dir, 'report.jsonl');
    const dry = join(dir, 'dry.db');
    const run = await cli(['process', file, '--state', dry, '--dry-run', '--report', report]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\[dry run\] records=5 unsubscribed=1/);
    const rows = readFileSync(report, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.line, r.action])).toEqual([
      [2, 'unsubscribe'],
      [3, 'soft-bounce'],
      [4, 'ignore'],
      [5, 'ignore'],
      [6, 'reject'],
    ]);
    expect(rows[0]).toEqual({
      line: 2,
      type: 'b',
      recipient: 'gone@example.com',
      category: 'bad-mailbox',
      action: 'unsubscribe',
      reason: expect.any(String),
      rule: 'pmta',
    });
    const status = await cli(['status', 'gone@example.com', '--state', dry]);
    expect(status.code).toBe(2); // the dry run never created the state file
  });

  it("reads stdin and the PHP bouncehandler's plain CSV; --debug logs to stderr", async () => {
    const run = await cli(['process', '-', '--state', join(dir, 'stdin.db'), '--json', '--debug'], {
      stdin: 'someone@example.com\nother@example.com\n',
    });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ records: 2, unsubscribed: 2 });
    expect(run.stderr).toMatch(/line 1 plain someone@example.com: unsubscribe/);
  });

  it('exits 2 naming the key path on a bad config, and processes nothing', async () => {
    const config = join(dir, 'bad.yaml');
    writeFileSync(config, 'policy:\n  soft:\n    treshold: 3\n');
    const run = await cli(['process', file, '--config', config, '--state', join(dir, 'never.db')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('policy.soft: unknown key(s): treshold');
  });

  it('exits 2 on usage errors', async () => {
    expect((await cli(['process', '--bogus'])).code).toBe(2);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['process', join(dir, 'missing.csv')])).code).toBe(2);
  });
});

describe('pmta-bounce process with MailWizz', () => {
  let fake: FakeMailwizzServer;
  let lists: string[];
  beforeAll(async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    lists = [fake.addList('News'), fake.addList('Deals'), fake.addList('Events')];
    for (const l of lists) fake.addSubscriber(l, 'gone@example.com');
    fake.addSubscriber(lists[0]!, 'kept@example.com');
  });
  afterAll(() => fake.close());

  function config(key: string): string {
    const path = join(dir, `mw-${key.slice(0, 3)}.yaml`);
    writeFileSync(
      path,
      `providers:\n  - id: mw\n    type: mailwizz\n    url: ${fake.url}\n    apiKey: \${MW_KEY}\n    maxRetries: 0\n`,
    );
    return path;
  }
  const file = join(dir, 'mw.csv');
  writeFileSync(file, `${HEADER}\nb,1764000000,news@example.com,gone@example.com,5.1.1,bad-mailbox,\n`);

  it('wrong credentials: the action fails (exit 3), stays pending, and succeeds after the fix', async () => {
    const state = join(dir, 'mw.db');
    const bad = await cli(['process', file, '--state', state, '--config', config('bad'), '--json'], {
      env: { MW_KEY: 'e'.repeat(40) },
    });
    expect(bad.code).toBe(3);
    expect(JSON.parse(bad.stdout)).toMatchObject({ unsubscribed: 1, failed: 1 });
    expect(bad.stdout + bad.stderr).not.toContain('e'.repeat(40));
    expect(fake.subscribers.filter((s) => s.status === 'unsubscribed')).toHaveLength(0);

    // The record is not seen again (a pipe never replays it): the pending action is retried anyway.
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    const good = await cli(['process', empty, '--state', state, '--config', config('good'), '--json'], {
      env: { MW_KEY: API_KEY },
    });
    expect(good.code).toBe(0);
    expect(good.stderr).toContain('retrying 1 pending action(s) from earlier runs');
    expect(JSON.parse(good.stdout)).toMatchObject({ records: 0, failed: 0, providerCalls: { mw: 2 } });
    expect(fake.subscribers.filter((s) => s.email === 'gone@example.com').map((s) => s.status)).toEqual([
      'unsubscribed',
      'unsubscribed',
      'unsubscribed',
    ]);
    expect(fake.subscribers.find((s) => s.email === 'kept@example.com')?.status).toBe('confirmed');

    const before = fake.http.count(MAILWIZZ_ENDPOINTS.unsubscribeAll);
    const again = await cli(['process', file, '--state', state, '--config', config('good'), '--json'], {
      env: { MW_KEY: API_KEY },
    });
    expect(JSON.parse(again.stdout)).toMatchObject({
      unsubscribed: 0,
      alreadySuppressed: 1,
      providerCalls: { mw: 0 },
    });
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.unsubscribeAll)).toBe(before);

    const status = await cli(['status', 'gone@example.com', '--state', state]);
    expect(status.stdout).toMatch(/provider mw failed/);
    expect(status.stdout).toMatch(
      /provider mw done \[News=done, Deals=done, Events=done\]|provider mw done \[.*=done.*\]/,
    );
  });

  it('check verifies credentials', async () => {
    const ok = await cli(['check', '--config', config('good')], { env: { MW_KEY: API_KEY } });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/mw \(mailwizz\): ok/);
    const bad = await cli(['check', '--config', config('bad')], { env: { MW_KEY: 'e'.repeat(40) } });
    expect(bad.code).toBe(2);
    expect(bad.stdout).toMatch(/mw \(mailwizz\): FAILED/);
    expect(bad.stdout).not.toContain('e'.repeat(40));
  });
});
