/**
 * The README's "Try the cloud path locally", as written: the real `bin/pmta-bounce.js sandbox`
 * with the example configuration, `--fake-providers --seed samples/demo-accounting.csv` and no
 * provider credentials in the environment; the sample piped through the real `bin/pmta-shipper.js`;
 * then the fakes' summary printed on SIGTERM says who is unsubscribed where.
 * (Ports 0: the emulators and fakes take free ports on 127.0.0.1.)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../..');
const SAMPLE = join(ROOT, 'samples/demo-accounting.csv');
const CREDS = { AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox' };

let sandbox: ChildProcess | undefined;
let out = '';
let err = '';
let exited: Promise<number | null>;
let spool: string;

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, POWERTOOLS_LOG_LEVEL: 'ERROR', ...CREDS };
  // The README promises the example configuration works with no provider credentials set.
  delete env.MAILWIZZ_API_KEY;
  delete env.INTERSPIRE_TOKEN;
  delete env.PMTA_BOUNCE_CONFIG;
  return env;
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}\nstdout:\n${out}\nstderr:\n${err}`);
}

function printed(label: string): string {
  const m = new RegExp(`^${label}:\\s+(\\S+)`, 'm').exec(out);
  if (!m) throw new Error(`sandbox did not print ${label}:\n${out}`);
  return m[1]!;
}

/** `fake ID unsubscribed: ADDRESS [...]` lines → provider id → addresses. */
function unsubscribedByProvider(text: string): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  for (const m of text.matchAll(/^\s*fake (\S+) unsubscribed: (\S+) \[([^\]]*)\]$/gm)) {
    const set = map.get(m[1]!) ?? new Set<string>();
    set.add(m[2]!);
    for (const id of m[3]!.split(', ')) set.add(id);
    map.set(m[1]!, set);
  }
  return map;
}

beforeAll(async () => {
  spool = mkdtempSync(join(tmpdir(), 'pmta-try-it-'));
  sandbox = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/pmta-bounce.js'),
      'sandbox',
      '--config',
      'pmta-bounce.config.example.yaml',
      '--fake-providers',
      '--seed',
      'samples/demo-accounting.csv',
      '--sqs-port',
      '0',
      '--dynamodb-port',
      '0',
    ],
    { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  sandbox.stdout?.on('data', (d) => (out += d));
  sandbox.stderr?.on('data', (d) => (err += d));
  exited = new Promise((resolve) => sandbox?.on('exit', (code) => resolve(code)));
  await until('the sandbox to run', () => out.includes('running; Ctrl-C stops'), 45_000);
});

afterAll(async () => {
  if (sandbox && sandbox.exitCode === null && sandbox.signalCode === null) {
    sandbox.kill('SIGTERM');
    const timer = setTimeout(() => sandbox?.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(spool, { recursive: true, force: true });
});

describe('README: try the cloud path locally', () => {
  it('unsubscribes the sample file’s hard bounces and complaints at the fakes, and nothing else', async () => {
    expect(out).toMatch(/^fake mailwizz:\s+http:\/\/127\.0\.0\.1:\d+\/api /m);
    expect(out).toMatch(/^fake interspire:\s+http:\/\/127\.0\.0\.1:\d+\/iem\/xml\.php /m);
    const queueUrl = printed('records queue');
    const endpoint = printed('endpoint');
    const actionsUrl = printed('actions queue');

    const shipper = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/pmta-shipper.js'),
        '--queue-url',
        queueUrl,
        '--endpoint-url',
        endpoint,
        '--region',
        'us-east-1',
        '--spool-dir',
        spool,
      ],
      { cwd: ROOT, env: childEnv(), stdio: ['pipe', 'ignore', 'pipe'] },
    );
    let shipperErr = '';
    shipper.stderr?.on('data', (d) => (shipperErr += d));
    const shipped = new Promise<number | null>((resolve) => shipper.on('exit', (code) => resolve(code)));
    createReadStream(SAMPLE).pipe(shipper.stdin!);
    const timer = setTimeout(() => shipper.kill('SIGKILL'), 30_000);
    const code = await shipped;
    clearTimeout(timer);
    expect(code, shipperErr).toBe(0);
    expect(shipperErr).toMatch(/sent=17 /);

    const sqs = new SQSClient({
      region: 'us-east-1',
      endpoint,
      credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' },
    });
    const depth = async (url: string) => {
      const a = (
        await sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        )
      ).Attributes;
      return (
        Number(a?.ApproximateNumberOfMessages ?? 0) + Number(a?.ApproximateNumberOfMessagesNotVisible ?? 0)
      );
    };
    let quiet = 0;
    try {
      await until(
        'the records and actions queues to drain',
        async () => {
          const busy = (await depth(queueUrl)) + (await depth(actionsUrl));
          quiet = busy === 0 ? quiet + 1 : 0;
          return quiet >= 3;
        },
        60_000,
      );
    } finally {
      sqs.destroy();
    }

    const before = out.length;
    sandbox?.kill('SIGTERM');
    await until('the sandbox to stop', () => sandbox?.exitCode !== null, 20_000);
    expect(await exited).toBe(0);
    const summary = out.slice(before);
    expect(summary).toMatch(/act \d+ done, 0 failed/);
    const done = unsubscribedByProvider(summary);

    const hard = [
      'alice.gone@example.org',
      'bob@nowhere-domain.example',
      'carol@example.com',
      'grace@example.com',
      'heidi@example.net',
    ];
    const complained = 'judy@example.com';
    const untouched = ['erin.full@example.com', 'dave@example.com', 'frank@example.com', 'ivan@example.com'];
    // news@example.com routes to both providers (the interspire provider's `senders` match it).
    for (const provider of ['mailwizz', 'interspire']) {
      const set = done.get(provider) ?? new Set<string>();
      for (const address of [...hard, complained]) expect(set, `${provider} ${address}`).toContain(address);
      for (const address of untouched) expect(set, `${provider} ${address}`).not.toContain(address);
      expect(set).not.toContain('mallory@example.com'); // auth-failure: not a complaint
    }
    // The anonymised complaint: by its MailWizz list and subscriber uids.
    expect(done.get('mailwizz')).toContain('ab123cd45ef67/kk111jj222hh3');
    expect(summary).toMatch(/^fake mailwizz \(mailwizz\): 13 of 23 subscriptions unsubscribed$/m);
    expect(summary).toMatch(/^fake interspire \(interspire\): 12 of 22 subscriptions unsubscribed$/m);
    // Generated credentials are never printed.
    expect(out + err).not.toMatch(/[0-9a-f]{40}/);
  }, 120_000);
});
