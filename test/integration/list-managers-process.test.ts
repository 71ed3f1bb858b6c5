/**
 * `pmta-bounce process` (in-process, SQLite state in a temp dir) against the listmonk, Mautic and
 * MailWizz (`bounceAs: campaign-bounce`) fakes: every hard bounce and complaint reaches the
 * provider exactly once per subscriber (one bounce post per action in listmonk's bounce mode), a
 * second run makes no call, and answers lost after the change are retried to the same end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '#cli/cli-io.ts';
import { main } from '#cli/main.ts';
import { FakeListmonkServer } from '#sandbox/fakes/fake-listmonk-server.ts';
import {
  LIST_MANAGER_HARNESSES as HARNESSES,
  type Harness,
  harnessFiles,
  ONCE_EACH,
  runCli as run,
  TOKEN,
} from '#test/support/list-manager-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-lm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const files = (name: string, harness: Harness, campaign?: string) =>
  harnessFiles(dir, name, harness, campaign);

let current: Harness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

describe.each(Object.keys(HARNESSES))('process against %s', (name) => {
  it('reaches the provider once per subscriber; a second run makes no call', async () => {
    const harness = await HARNESSES[name]!();
    current = harness;
    const f = files(name, harness, harness.campaign);
    const first = await run(['process', f.input, '--config', f.config, '--state', f.state('a'), '--json']);
    expect(first.code).toBe(0);
    expect(first.summary).toMatchObject({ unsubscribed: 4, failed: 0 });
    expect(harness.writesPerAddress()).toEqual(ONCE_EACH);
    const requests = harness.http.totalRequests();
    const again = await run(['process', f.input, '--config', f.config, '--state', f.state('a'), '--json']);
    expect(again.summary).toMatchObject({ unsubscribed: 0, alreadySuppressed: 5, failed: 0 });
    expect(Object.values(again.summary.providerCalls as Record<string, number>)).toEqual([0]);
    expect(harness.http.totalRequests()).toBe(requests);
  });

  it('answers lost after the change: the pending actions are retried to the same end, once each', async () => {
    const harness = await HARNESSES[name]!();
    current = harness;
    const f = files(name, harness, harness.campaign);
    harness.http.inject({ endpoint: harness.mutating, phase: 'after', status: 503, times: 2 });
    const first = await run(['process', f.input, '--config', f.config, '--state', f.state('b'), '--json']);
    expect(first.code).toBe(3);
    expect(first.summary).toMatchObject({ failed: 2 });
    const retry = await run(['process', f.empty, '--config', f.config, '--state', f.state('b'), '--json']);
    expect(retry.code).toBe(0);
    expect(retry.stderr).toContain('retrying 2 pending action(s) from earlier runs');
    expect(retry.summary).toMatchObject({ failed: 0 });
    expect(harness.writesPerAddress()).toEqual(ONCE_EACH);
    const requests = harness.http.totalRequests();
    const third = await run(['process', f.empty, '--config', f.config, '--state', f.state('b'), '--json']);
    expect(third.summary).toMatchObject({ failed: 0 });
    expect(harness.http.totalRequests()).toBe(requests);
  });
});

describe('check against listmonk with bounce processing off', () => {
  it('fails with a clear configuration error and exit 2', async () => {
    const fake = await FakeListmonkServer.start({ username: 'api', token: TOKEN, bounceEnabled: false });
    try {
      const config = join(dir, 'lm-check.yaml');
      writeFileSync(
        config,
        `providers:\n  - { id: lm, type: listmonk, url: "${fake.url}", username: api, token: "\${TOKEN}" }\n`,
      );
      const out = new PassThrough();
      let stdout = '';
      out.on('data', (d) => {
        stdout += d;
      });
      const io: CliIo = {
        stdin: Readable.from(['']),
        stdout: out,
        stderr: new PassThrough(),
        env: { TOKEN },
        now: Date.now,
      };
      const code = await main(['check', '--config', config], io);
      expect(code).toBe(2);
      expect(stdout).toMatch(/lm \(listmonk\): FAILED — bounce processing is disabled in listmonk \(503\)/);
      expect(stdout).not.toContain(TOKEN);
    } finally {
      await fake.close();
    }
  });
});
