/**
 * `pmta-bounce process`, `status` and `check` in-process, with the canary in every provider's
 * `${VAR}` and fakes that accept it, refuse it, or fail with 5xx: stdout, stderr, the report, the
 * log file and the SQLite state never contain it. A credential written literally in the file draws
 * a warning naming its key (process and check), without echoing the value.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '#cli/cli-io.ts';
import { main } from '#cli/main.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { CANARY, expectNoCanary } from './canary.ts';

const OTHER_KEY = 'OtherKey0000000000000000000000';
const NOW = 1_764_000_000_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], env: Record<string, string>, stdin = ''): Promise<Run> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => {
    stdout += d;
  });
  err.on('data', (d) => {
    stderr += d;
  });
  const io: CliIo = { stdin: Readable.from([stdin]), stdout: out, stderr: err, env, now: () => NOW };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-canary-'));
let mailwizz: FakeMailwizzServer;
let interspire: FakeInterspireServer;
let webhook: FakeWebhookServer;

beforeAll(async () => {
  [mailwizz, interspire, webhook] = await Promise.all([
    FakeMailwizzServer.start({ mode: 'v2', apiKey: CANARY }),
    // Refuses the canary: an auth failure whose error must not quote what was sent.
    FakeInterspireServer.start({ username: 'admin', token: OTHER_KEY }),
    FakeWebhookServer.start({ secret: `whsec_${CANARY}` }),
  ]);
  const list = mailwizz.addList();
  for (const who of ['gone', 'spam']) mailwizz.addSubscriber(list, `${who}@example.com`);
  interspire.addSubscriber(interspire.addList(), 'gone@example.com');
  webhook.http.inject({ status: 503, times: 1000 });
  ENV.HOOK_URL = webhook.url; // a webhook URL is a credential too: written as ${NAME}
});
afterAll(async () => {
  await Promise.all([mailwizz?.close(), interspire?.close(), webhook?.close()]);
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, apiKey: string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    [
      'providers:',
      `  - { id: mw, type: mailwizz, url: "${mailwizz.url}", apiKey: "${apiKey}", privateKey: "\${MW_PRIVATE}", maxRetries: 1 }`,
      `  - { id: iem, type: interspire, url: "${interspire.url}", username: admin, token: "\${IEM_TOKEN}", maxRetries: 1 }`,
      `  - { id: hook, type: webhook, url: "\${HOOK_URL}", secret: "whsec_\${HOOK_SECRET}", maxRetries: 1, timeoutMs: 500 }`,
      '',
    ].join('\n'),
  );
  return path;
}

const ENV: Record<string, string> = {
  MW_KEY: CANARY,
  MW_PRIVATE: CANARY,
  IEM_TOKEN: CANARY,
  HOOK_SECRET: CANARY,
};
const ACCOUNTING = [
  'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,jobId',
  'b,1764000000,news@example.com,gone@example.com,5.1.1,smtp;550 no such user,bad-mailbox,',
  'b,1764000001,news@example.com,full@example.com,5.2.2,,quota-issues,',
  'f,1764000002,news@example.com,spam@example.com,,,,',
  'zz,broken',
  '',
].join('\n');

describe('the CLI with the canary in every credential', () => {
  it('process (report, debug log, log file), status and check leak nothing', async () => {
    const config = writeConfig('vars', '${MW_KEY}');
    const input = join(dir, 'acct.csv');
    writeFileSync(input, ACCOUNTING);
    const state = join(dir, 'state.db');
    const report = join(dir, 'report.jsonl');
    const logfile = join(dir, 'run.log');
    // v1 signing is only used with privateKey: the canary is both keys of the same account here.
    const processed = await run(
      [
        'process',
        input,
        '--config',
        config,
        '--state',
        state,
        '--report',
        report,
        '--debug',
        `--logfile=${logfile}`,
      ],
      ENV,
    );
    // The MailWizz call succeeds; Interspire refuses the token, the webhook keeps answering 503.
    expect(processed.code).toBe(3);
    expect(processed.stderr).toMatch(/FAILED/);
    // Every provider was really called with the canary (accepted, refused, failing).
    for (const fake of [mailwizz, interspire, webhook]) expect(fake.http.totalRequests()).toBeGreaterThan(0);
    expect(readFileSync(report, 'utf8').trim().split('\n')).toHaveLength(4);
    const statusText = await run(['status', 'gone@example.com', '--state', state], ENV);
    const statusJson = await run(['status', 'gone@example.com', '--state', state, '--json'], ENV);
    expect(statusJson.code).toBe(0);
    const check = await run(['check', '--config', config], ENV);
    expect(check.code).toBe(2);
    expect(check.stdout).toMatch(/iem \(interspire\): FAILED/);
    expect(check.stdout).not.toMatch(/written literally/);
    expectNoCanary({
      processStdout: processed.stdout,
      processStderr: processed.stderr,
      report: readFileSync(report, 'utf8'),
      logfile: readFileSync(logfile, 'utf8'),
      state: readFileSync(state).toString('latin1'),
      statusText: statusText.stdout + statusText.stderr,
      statusJson: statusJson.stdout,
      check: check.stdout + check.stderr,
    });
  });

  it('a credential written literally: a warning naming the key, in process and in check, never the value', async () => {
    const config = writeConfig('literal', CANARY);
    const check = await run(['check', '--config', config], ENV);
    expect(check.stdout).toContain('warning: providers[0].apiKey is a credential written literally');
    expect(check.stdout.match(/written literally/g)).toHaveLength(1);
    const processed = await run(
      ['process', '-', '--config', config, '--state', join(dir, 'literal.db'), '--dry-run', '--json'],
      ENV,
      'gone@example.com\n',
    );
    expect(processed.code).toBe(0);
    expect(processed.stderr).toContain(
      'warning: providers[0].apiKey holds a credential written literally in the config file',
    );
    expectNoCanary({ check: check.stdout + check.stderr, process: processed.stdout + processed.stderr });
  });

  it.each([
    {
      case: 'a missing variable',
      line: 'token: "${NOT_SET}"',
      error: /providers\[1\]\.token: environment variable NOT_SET is not set/,
    },
    {
      case: 'an invalid webhook secret',
      line: 'secret: "whsec_!${HOOK_SECRET}"',
      error: /providers\[2\]\.secret/,
    },
    { case: 'a credential where a URL belongs', line: 'url: "${MW_KEY}"', error: /providers\[0\]\.url/ },
    {
      case: 'a credential where a number belongs',
      line: 'timeoutMs: "${MW_KEY}"',
      error: /providers\[0\]\.timeoutMs/,
    },
  ])('a configuration error with $case names the key, never the value', async ({ line, error }) => {
    const [key] = line.split(':') as [string];
    const index = { token: 1, secret: 2 }[key] ?? 0;
    const rows = ['providers:'];
    const base = [
      { id: 'mw', type: 'mailwizz', url: mailwizz.url, apiKey: '${MW_KEY}' },
      { id: 'iem', type: 'interspire', url: interspire.url, username: 'admin', token: '${IEM_TOKEN}' },
      { id: 'hook', type: 'webhook', url: webhook.url, secret: 'whsec_${HOOK_SECRET}' },
    ];
    base.forEach((p, i) => {
      const entries = Object.entries(p).filter(([k]) => !(i === index && k === key));
      rows.push(`  - ${entries.map(([k, v], n) => `${n === 0 ? '' : '    '}${k}: "${v}"`).join('\n')}`);
      if (i === index) rows.push(`    ${line}`);
    });
    const path = join(dir, 'broken.yaml');
    writeFileSync(path, `${rows.join('\n')}\n`);
    for (const command of [['check'], ['process', '-', '--dry-run', '--state', join(dir, 'x.db')]]) {
      const result = await run([...command, '--config', path], ENV);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(error);
      expectNoCanary({ stdout: result.stdout, stderr: result.stderr });
    }
  });
});
