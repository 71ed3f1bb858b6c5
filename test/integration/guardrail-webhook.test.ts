/**
 * Guardrail notices (docs/guardrails.md): `process` posts one Standard Webhooks event per tripped
 * guardrail to a receiver that checks the signature (the webhook fake), announces each trip once
 * across runs, and retries on the next run when the receiver was down.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { trafficScenario } from '#test/support/traffic-scenario.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pmta-bounce.js');
const SECRET = `whsec_${Buffer.from('guardrail-notice-test-secret-0123').toString('base64')}`;

async function cli(args: string[], env: Record<string, string>) {
  try {
    const out = await promisify(execFile)(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      timeout: 60_000,
      env: { ...process.env, PMTA_BOUNCE_CONFIG: '', ...env },
    });
    return { code: 0, ...out };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('guardrail webhook notices', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmta-guardrail-hook-'));
  const input = join(dir, 'acct.csv');
  let fake: FakeWebhookServer;

  beforeAll(async () => {
    fake = await FakeWebhookServer.start({ secret: SECRET });
    writeFileSync(input, trafficScenario().csv);
  });
  afterAll(async () => {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function config(url: string): string {
    const path = join(dir, `config-${fake.notices.length}-${url.length}.yaml`);
    writeFileSync(path, `guardrails:\n  webhook:\n    url: ${url}\n    secret: \${HOOK_SECRET}\n`);
    return path;
  }

  it('posts each trip once, signed, and a later run of the same day posts nothing new', async () => {
    const state = join(dir, 'state.db');
    const first = await cli(['process', input, '--state', state, '--config', config(fake.url)], {
      HOOK_SECRET: SECRET,
    });
    expect(first.code).toBe(0);
    expect(fake.notices.map((n) => n.id)).toEqual([
      'guardrail:complaint-rate:news.example.com:2026-11-20:warn',
      'guardrail:complaint-rate:shop.example.com:2026-11-20:critical',
      'guardrail:block-spike:gmail:vmta-burst:2026-11-20T10:00:00.000Z:critical',
    ]);
    expect(fake.notices[1]?.data).toMatchObject({
      kind: 'complaint-rate',
      sendingDomain: 'shop.example.com',
      complaints: 5,
      deliveries: 1000,
    });
    await cli(['process', input, '--state', state, '--config', config(fake.url)], { HOOK_SECRET: SECRET });
    expect(fake.attempts).toHaveLength(3);
  });

  it('a receiver that is down is named on stderr, without its URL, and the next run delivers', async () => {
    const state = join(dir, 'state-down.db');
    const down = 'https://127.0.0.1:9/hooks/suppress?token=not-for-logs';
    const run = await cli(['process', input, '--state', state, '--config', config(down)], {
      HOOK_SECRET: SECRET,
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(
      /guardrail notice guardrail:complaint-rate:shop\.example\.com:2026-11-20:critical not delivered/,
    );
    expect(run.stderr).not.toContain('not-for-logs');
    const before = fake.attempts.length;
    // The same day again: the stored totals still trip, and the notices go out now.
    await cli(['process', input, '--state', state, '--config', config(fake.url)], { HOOK_SECRET: SECRET });
    expect(fake.attempts.length - before).toBe(3);
  });

  it('refuses a plain-http receiver that is not loopback, naming the key', async () => {
    const run = await cli(
      ['process', input, '--state', join(dir, 'x.db'), '--config', config('http://hooks.example.com/x')],
      { HOOK_SECRET: SECRET },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('guardrails.webhook.url');
  });
});
