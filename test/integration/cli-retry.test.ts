/**
 * Permanent provider failures in local mode (issue 11 item 4): a 3xx or 4xx other than not-found
 * (a misconfigured URL: an http→https redirect, a wrong path) parks the action instead of dropping
 * it. Parked actions are counted in the summary and in `status`, are not re-sent by every
 * `process` run, and `retry [--provider ID]` delivers them once the configuration is fixed.
 * Not-found (the subscriber is gone) stays a final, recorded outcome. In-process, real wiring:
 * SQLite state, the MailWizz adapter against the protocol fake.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '#cli/cli-io.ts';
import { main } from '#cli/main.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';

const API_KEY = 'f'.repeat(40);
const HEADER = 'type,timeLogged,orig,rcpt,dsnStatus,bounceCat,jobId';
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-retry-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = { stdout: '', stderr: '' };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d) => {
    out.stdout += d;
  });
  stderr.on('data', (d) => {
    out.stderr += d;
  });
  const io: CliIo = {
    stdin: Readable.from([]),
    stdout,
    stderr,
    env: { MW_KEY: API_KEY },
    now: () => Date.now(),
  };
  const code = await main(args, io);
  return { code, ...out };
}

describe('a provider that answers 3xx/4xx for a while, then is fixed: nothing lost', () => {
  let fake: FakeMailwizzServer;
  let config: string;
  const state = join(dir, 'state.db');
  const input = join(dir, 'bounces.csv');
  const empty = join(dir, 'empty.csv');
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const list = fake.addList('News');
    alice = fake.addSubscriber(list, 'alice@example.com');
    bob = fake.addSubscriber(list, 'bob@example.com');
    config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `providers:\n  - id: mw\n    type: mailwizz\n    url: ${fake.url}\n    apiKey: \${MW_KEY}\n    maxRetries: 0\n`,
    );
    writeFileSync(
      input,
      [
        HEADER,
        'b,1764000000,news@example.com,alice@example.com,5.1.1,bad-mailbox,',
        'b,1764000001,news@example.com,bob@example.com,5.1.1,bad-mailbox,',
        'b,1764000002,news@example.com,nobody@example.com,5.1.1,bad-mailbox,',
      ].join('\r\n'),
    );
    writeFileSync(empty, '');
  });
  afterAll(() => fake?.close());

  it('parks the refused actions, counts them, and does not re-send them on every process run', async () => {
    // The first two requests (one search per address) meet a redirect: a wrong base URL.
    fake.http.inject({ status: 301, times: 2 });
    const first = await run(['process', input, '--config', config, '--state', state, '--json']);
    expect(first.code).toBe(3);
    expect(JSON.parse(first.stdout)).toMatchObject({ unsubscribed: 3, failed: 2, parked: 2, pending: 2 });
    expect(first.stderr).toMatch(/2 action\(s\) parked.*pmta-bounce retry/);
    expect(fake.subscriber(alice)?.status).toBe('confirmed');

    const requests = fake.http.totalRequests();
    const again = await run(['process', empty, '--config', config, '--state', state, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ failed: 0, parked: 0, pending: 2 });
    expect(again.stderr).toMatch(/2 action\(s\) parked/);
    expect(fake.http.totalRequests()).toBe(requests);
  });

  it('status shows the parked actions with the provider and its error', async () => {
    const overview = await run(['status', '--state', state, '--json']);
    expect(overview.code).toBe(0);
    expect(JSON.parse(overview.stdout)).toMatchObject({
      pending: 2,
      parkedActions: 2,
      parked: [{ provider: 'mw', actions: 2, lastError: expect.stringMatching(/301/) }],
    });
    const one = await run(['status', 'alice@example.com', '--state', state]);
    expect(one.stdout).toMatch(/parked at mw .*301/);
    expect((await run(['status', '--state', state])).stdout).toMatch(/2 pending action\(s\), 2 parked/);
  });

  it('retry --provider delivers them once fixed; not-found stayed final and recorded', async () => {
    expect((await run(['retry', '--provider', 'nope', '--config', config, '--state', state])).code).toBe(2);
    const retry = await run(['retry', '--provider', 'mw', '--config', config, '--state', state, '--json']);
    expect(retry.code).toBe(0);
    expect(JSON.parse(retry.stdout)).toMatchObject({ retried: 2, done: 2, failed: 0, pending: 0 });
    expect(fake.subscriber(alice)?.status).toBe('unsubscribed');
    expect(fake.subscriber(bob)?.status).toBe('unsubscribed');
    const nobody = await run(['status', 'nobody@example.com', '--state', state, '--json']);
    expect(JSON.parse(nobody.stdout).audit).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'provider', outcome: 'not-found' })]),
    );
    const overview = await run(['status', '--state', state, '--json']);
    expect(JSON.parse(overview.stdout)).toMatchObject({ pending: 0, parkedActions: 0, parked: [] });
  });
});
