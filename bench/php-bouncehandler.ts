/**
 * `pmta-bounce process` side by side with the PHP bouncehandler (port25-bouncehandler), in one run.
 *
 *   node --import tsx bench/php-bouncehandler.ts [--records 300000]            local: records/s
 *   node --import tsx bench/php-bouncehandler.ts --mailwizz [--addresses 400]   MailWizz: addresses/s
 *     [--concurrency default,8,16]   one `process` run per value (`default`: the setting left out)
 *     [--skip-php]                   no PHP run and no ratios (for trying a change quickly)
 *     [--compare-cli PATH]           first a run of another checkout's bin/pmta-bounce.js (before/after)
 *
 * Local mode: N bounce records in the PHP bouncehandler's own 12-column layout (its README's
 * acct-file: type,timeQueued,bounceCat,...,dsnDiag), the PHP script with providers off, then
 * `pmta-bounce process FILE --dry-run` and `pmta-bounce process FILE` with SQLite state on the same
 * file (the PHP script reads it from stdin, its only input), each in its own process: records/s (wall clock from spawn to exit, startup included), the ratios, and
 * peak RSS.
 * MailWizz mode: N addresses, each confirmed on 4 lists of the MailWizz 1.x fake (signed requests,
 * answering after --latency-ms), one hard bounce per address; the PHP script and then
 * `pmta-bounce process` (default settings) unsubscribe them, each from a fresh fake: addresses/s,
 * calls per address, and whether every subscription ended unsubscribed; then `process` runs the
 * same file again (every address a repeat: no call expected).
 * Needs php-cli, php-curl and php-xml (Debian packages); skips with a message without them.
 * Servers listen on 127.0.0.1; every run is bounded by a timeout.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FakeMailwizzServer } from '../functions/sandbox/fakes/fake-mailwizz-server.ts';
import { bundleCli } from '../scripts/cli-bundle.js';

const ROOT = join(import.meta.dirname, '..');
/** The PHP bouncehandler's folder (with its prepare.sh): PHP_BOUNCEHANDLER_DIR, else beside the clone. */
const PHP_SOURCE =
  process.env.PHP_BOUNCEHANDLER_DIR ??
  [join(ROOT, '../shared/seed-php'), join(ROOT, '../../shared/seed-php')].find((d) =>
    existsSync(join(d, 'prepare.sh')),
  ) ??
  join(ROOT, '../shared/seed-php');
const RUN_TIMEOUT_MS = 20 * 60_000;
const ORIG = 'campaign@mailwizz.com';
const HEADER = 'type,timeQueued,bounceCat,vmta,orig,rcpt,srcMta,dlvSourceIp,jobId,dsnStatus,dsnMta,dsnDiag';

/** bounceCat, dsnStatus, dsnDiag (quoted where PowerMTA quotes: commas, quotes). */
const BOUNCES: ReadonlyArray<readonly [string, string, string]> = [
  [
    'bad-mailbox',
    '5.1.1 (bad destination mailbox address)',
    '"smtp;550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown, sorry"',
  ],
  ['bad-domain', '5.1.2 (bad destination system: no such domain)', 'smtp;550 5.1.2 Host unknown'],
  [
    'inactive-mailbox',
    '"5.2.1 (mailbox disabled, not accepting messages)"',
    '"smtp;550 5.2.1 The email account that you tried to reach is disabled."',
  ],
  ['quota-issues', '5.2.2 (mailbox full)', '"smtp;552 5.2.2 Mailbox full, quota exceeded"'],
  [
    'spam-related',
    '"5.7.1 (delivery not authorized, message refused)"',
    '"smtp;550 5.7.1 Message rejected as spam, see ""policy"""',
  ],
  ['policy-related', '"5.7.1 (delivery not authorized, message refused)"', 'smtp;554 5.7.1 Policy violation'],
  ['message-expired', '4.4.7 (delivery time expired)', 'smtp;421 4.4.7 message expired'],
];

/** Deterministic PRNG (mulberry32): the same file for the same N. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function phpLayoutRecord(i: number, rcpt: string, bounce: readonly [string, string, string]): string {
  const [cat, status, diag] = bounce;
  const time = new Date(Date.UTC(2026, 10, 26, 0, 0, 0) + i * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, '+0000');
  return `b,${time},${cat},vmta${i % 4},${ORIG},${rcpt},app1 (10.0.0.2),198.51.100.${i % 200},job-${i % 1000},${status},mx${i % 97}.example.net (192.0.2.${i % 250}),${diag.replace('{rcpt}', rcpt)}`;
}

/** N records over N/2 distinct addresses, CRLF as PowerMTA writes. */
function writeLocalInput(file: string, count: number): void {
  const random = rng(7);
  const parts: string[] = [`${HEADER}\r\n`];
  for (let i = 0; i < count; i++) {
    const rcpt = `user${Math.floor(random() * Math.max(1, count / 2))}@example${i % 97}.com`;
    parts.push(`${phpLayoutRecord(i, rcpt, BOUNCES[Math.floor(random() * BOUNCES.length)]!)}\r\n`);
  }
  writeFileSync(file, parts.join(''));
}

interface RunResult {
  seconds: number;
  /** performance.now() at spawn: with the fake's first request, the startup before the first call. */
  startedAt: number;
  /** User + system CPU seconds of the process (all its threads): steadier than wall time on a shared box. */
  cpuSeconds: number;
  peakRssMb: number;
  stdout: string;
}

/** Runs a command to completion, its stdin from the file `input` if given; wall time and peak RSS (GNU time). */
function timed(
  command: string,
  args: string[],
  options: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv },
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M CPU=%U+%S', command, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      timeout: RUN_TIMEOUT_MS,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    if (options.input !== undefined) child.stdin?.end(readFileSync(options.input));
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      const kb = Number(/PEAK_RSS_KB=(\d+)/.exec(stderr)?.[1] ?? Number.NaN);
      const cpu = /CPU=([\d.]+)\+([\d.]+)/.exec(stderr);
      const cpuSeconds = cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN;
      if (code !== 0 && code !== 1) {
        reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
        return;
      }
      resolve({
        seconds,
        startedAt: started,
        cpuSeconds,
        peakRssMb: Math.round((kb / 1024) * 10) / 10,
        stdout,
      });
    });
  });
}

function preparePhp(dir: string, mailwizz?: { url: string; publicKey: string; privateKey: string }): string {
  const args = [join(PHP_SOURCE, 'prepare.sh'), dir];
  if (mailwizz)
    args.push('--mailwizz', mailwizz.url, mailwizz.publicKey, mailwizz.privateKey, '--orig', ORIG);
  execFileSync('bash', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

const PMTA_BOUNCE = join(ROOT, 'bin/pmta-bounce.js');
const CLI_ENV = {
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  PMTA_BOUNCE_CONFIG: '',
};

function runPmtaBounce(args: string[], input?: string, bin = PMTA_BOUNCE): Promise<RunResult> {
  // The installed entry point run as an executable, so its shebang's V8 flags and environment apply
  // (and its bundle, built in main()). Local mode names the file (as an operator does for a file);
  // the MailWizz runs read it from stdin, as PowerMTA's pipe delivers records.
  return timed(bin, ['process', ...args], { input, env: CLI_ENV });
}

function phpAvailable(): boolean {
  try {
    const modules = execFileSync('php', ['-m'], { encoding: 'utf8' });
    return /^curl$/m.test(modules) && existsSync(join(PHP_SOURCE, 'prepare.sh'));
  } catch {
    return false;
  }
}

function rate(n: number, r: RunResult): number {
  return Math.round(n / r.seconds);
}

async function localMode(dir: string, count: number): Promise<void> {
  const input = join(dir, 'acct.csv');
  writeLocalInput(input, count);
  const php = preparePhp(join(dir, 'php'));
  const phpRun = await timed('php', ['bouncehandler.php'], { cwd: php, input });
  const completed = /Total records=(\d+), processed=(\d+), skipped=(\d+)/.exec(
    readFileSync(join(php, 'seed.log'), 'utf8'),
  );
  const dry = await runPmtaBounce([input, '--dry-run', '--json', '--state', join(dir, 'none.db')]);
  const state = await runPmtaBounce([input, '--json', '--state', join(dir, 'state.db')]);
  const records = (r: RunResult) =>
    (JSON.parse(r.stdout.trim().split('\n').pop()!) as { records: number }).records;
  console.log(
    `input: ${count.toLocaleString('en-US')} records in the PHP bouncehandler's layout (${HEADER})`,
  );
  console.log(
    `PHP bouncehandler log: ${completed?.[0] ?? '(no summary line)'}; pmta-bounce records: dry run ${records(dry)}, state ${records(state)}`,
  );
  console.log(
    '| run | seconds (spawn to exit) | records/s | vs PHP | CPU seconds | records per CPU-second | vs PHP (CPU) | peak RSS MB |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  const base = rate(count, phpRun);
  const cpuBase = count / phpRun.cpuSeconds;
  for (const [name, r] of [
    ['PHP bouncehandler (providers off)', phpRun],
    ['pmta-bounce process --dry-run', dry],
    ['pmta-bounce process (SQLite state)', state],
  ] as const) {
    const perCpu = count / r.cpuSeconds;
    console.log(
      `| ${name} | ${r.seconds.toFixed(2)} | ${rate(count, r).toLocaleString('en-US')} | ${(rate(count, r) / base).toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${Math.round(perCpu).toLocaleString('en-US')} | ${(perCpu / cpuBase).toFixed(2)} | ${r.peakRssMb} |`,
    );
  }
}

const PUBLIC_KEY = 'bench-public-key';
const PRIVATE_KEY = 'bench-private-key';
const LISTS = 4;

async function freshMailwizz(addresses: number, latencyMs: number): Promise<FakeMailwizzServer> {
  const fake = await FakeMailwizzServer.start({ mode: 'v1', apiKey: PUBLIC_KEY, privateKey: PRIVATE_KEY });
  fake.http.latencyMs = latencyMs;
  const lists = Array.from({ length: LISTS }, (_, i) => fake.addList(`List ${i + 1}`));
  for (let a = 0; a < addresses; a++)
    for (const list of lists) fake.addSubscriber(list, `sub${a}@example.com`);
  return fake;
}

function mailwizzOutcome(fake: FakeMailwizzServer, addresses: number) {
  const left = fake.subscribers.filter((s) => s.status !== 'unsubscribed').length;
  return {
    calls: fake.http.totalRequests(),
    perAddress: fake.http.totalRequests() / addresses,
    left,
    callWindowSeconds: fake.http.activeMs() / 1000,
    firstRequestAt: fake.http.firstRequestAt() ?? Number.NaN,
    maxInFlight: fake.http.maxInFlight(),
    connections: fake.http.connectionsOpened(),
  };
}

interface MailwizzRun {
  name: string;
  run: RunResult;
  outcome: ReturnType<typeof mailwizzOutcome>;
}

function mailwizzInput(dir: string, addresses: number): string {
  const input = join(dir, 'bounces.csv');
  const lines = [HEADER];
  for (let a = 0; a < addresses; a++) lines.push(phpLayoutRecord(a, `sub${a}@example.com`, BOUNCES[0]!));
  writeFileSync(input, `${lines.join('\r\n')}\r\n`);
  return input;
}

async function phpMailwizzRun(dir: string, input: string, addresses: number, latencyMs: number) {
  const fake = await freshMailwizz(addresses, latencyMs);
  const php = preparePhp(join(dir, 'php'), { url: fake.url, publicKey: PUBLIC_KEY, privateKey: PRIVATE_KEY });
  const run = await timed('php', ['bouncehandler.php'], { cwd: php, input });
  const outcome = mailwizzOutcome(fake, addresses);
  await fake.close();
  return { name: 'PHP bouncehandler', run, outcome };
}

/** Which `process` runs: a `concurrency` (undefined: the default) and the CLI (another checkout's, to compare). */
interface OurRunSpec {
  concurrency: number | undefined;
  bin?: string;
}

/**
 * One `process` run against a fresh fake, then the same file again (every address a repeat): the
 * calls that second run made.
 */
async function ourMailwizzRun(
  dir: string,
  input: string,
  addresses: number,
  latencyMs: number,
  { concurrency, bin }: OurRunSpec,
): Promise<MailwizzRun & { repeat: RunResult; repeatCalls: number }> {
  const fake = await freshMailwizz(addresses, latencyMs);
  const config = join(dir, 'pmta-bounce.yaml');
  writeFileSync(
    config,
    `providers:\n  - id: mailwizz\n    type: mailwizz\n    url: ${fake.url}\n    apiKey: ${PUBLIC_KEY}\n    privateKey: ${PRIVATE_KEY}\n${concurrency === undefined ? '' : `    concurrency: ${concurrency}\n`}`,
  );
  const state = join(dir, `mw-state-${performance.now()}.db`);
  const run = await runPmtaBounce(['-', '--json', '--config', config, '--state', state], input, bin);
  const outcome = mailwizzOutcome(fake, addresses);
  const before = fake.http.totalRequests();
  const repeat = await runPmtaBounce(['-', '--json', '--config', config, '--state', state], input, bin);
  const repeatCalls = fake.http.totalRequests() - before;
  await fake.close();
  const settings = concurrency === undefined ? 'defaults' : `concurrency: ${concurrency}`;
  const name = `pmta-bounce process (${settings}${bin ? `, ${bin}` : ''})`;
  return { name, run, outcome, repeat, repeatCalls };
}

function printMailwizzRow(row: MailwizzRun, addresses: number, php: MailwizzRun | undefined): void {
  const { run: r, outcome: o } = row;
  const perSecond = addresses / r.seconds;
  const inWindow = addresses / o.callWindowSeconds;
  const ratio = (value: number, base: number | undefined) =>
    base === undefined ? '-' : (value / base).toFixed(1);
  const before = (o.firstRequestAt - r.startedAt) / 1000;
  const after = r.seconds - before - o.callWindowSeconds;
  console.log(
    `| ${row.name} | ${r.seconds.toFixed(2)} | ${perSecond.toFixed(1)} | ${ratio(perSecond, php && addresses / php.run.seconds)} | ${o.callWindowSeconds.toFixed(2)} | ${inWindow.toFixed(1)} | ${ratio(inWindow, php && addresses / php.outcome.callWindowSeconds)} | ${o.calls} | ${o.perAddress.toFixed(2)} | ${o.maxInFlight} | ${o.connections} | ${before.toFixed(2)} | ${after.toFixed(2)} | ${r.cpuSeconds.toFixed(2)} | ${o.left} | ${r.peakRssMb} |`,
  );
}

/**
 * `runs`: one `process` run per entry (undefined concurrency: the default settings). `skipPhp` is for
 * trying changes quickly: no PHP run, so no ratios (the figures in docs/ come from full runs).
 */
async function mailwizzMode(
  dir: string,
  options: {
    addresses: number;
    latencyMs: number;
    runs: OurRunSpec[];
    skipPhp: boolean;
  },
): Promise<void> {
  const { addresses, latencyMs } = options;
  const input = mailwizzInput(dir, addresses);
  const php = options.skipPhp ? undefined : await phpMailwizzRun(dir, input, addresses, latencyMs);
  const ours = [];
  for (const spec of options.runs) ours.push(await ourMailwizzRun(dir, input, addresses, latencyMs, spec));
  console.log(
    `MailWizz 1.x fake on 127.0.0.1, ${latencyMs} ms per answer; ${addresses} addresses x ${LISTS} lists, one hard bounce each`,
  );
  console.log(
    '| run | seconds (spawn to exit) | addresses/s | vs PHP | seconds (first call to last answer) | addresses/s | vs PHP | calls | calls/address | most in flight | connections opened | seconds before the first call | seconds after the last answer | CPU seconds | subscriptions left | peak RSS MB |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of php ? [php, ...ours] : ours) printMailwizzRow(row, addresses, php);
  for (const row of ours)
    console.log(
      `${row.name}, same file again (every address a repeat): ${row.repeatCalls} MailWizz calls, ${row.repeat.seconds.toFixed(2)} s`,
    );
  console.log(
    `load average at the end ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '300000' },
      mailwizz: { type: 'boolean', default: false },
      addresses: { type: 'string', default: '400' },
      'latency-ms': { type: 'string', default: '20' },
      /** MailWizz mode: comma-separated `concurrency` values, one run each; `default` = not set. */
      concurrency: { type: 'string', default: 'default' },
      'skip-php': { type: 'boolean', default: false },
      /** MailWizz mode: first a run of another checkout's bin/pmta-bounce.js (e.g. main's), same PHP figure. */
      'compare-cli': { type: 'string' },
    },
  });
  if (!phpAvailable()) {
    console.log(
      `php-bouncehandler bench skipped: php with curl not found, or no ${join(PHP_SOURCE, 'prepare.sh')} (apt-get install -y php-cli php-curl php-xml; PHP_BOUNCEHANDLER_DIR names the PHP bouncehandler's folder)`,
    );
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-php-bench-'));
  // As installed: `npm ci` builds the CLI bundle; built here too so a source edit is measured.
  await bundleCli();
  console.log(
    `pmta-bounce runs as: ${readFileSync(PMTA_BOUNCE, 'utf8').split('\n')[0]} (bundle in dist/cli)`,
  );
  console.log(
    `node ${process.version}, ${execFileSync('php', ['-r', 'echo PHP_VERSION;'], { encoding: 'utf8' })} (php), ${availableParallelism()} cores, load average at start ${loadavg()[0]!.toFixed(1)}`,
  );
  try {
    if (values.mailwizz)
      await mailwizzMode(dir, {
        addresses: Number(values.addresses),
        latencyMs: Number(values['latency-ms']),
        runs: [
          ...(values['compare-cli'] ? [{ concurrency: undefined, bin: values['compare-cli'] }] : []),
          ...values.concurrency
            .split(',')
            .map((c) => ({ concurrency: c === 'default' ? undefined : Number(c) })),
        ],
        skipPhp: values['skip-php'],
      });
    else await localMode(dir, Number(values.records));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
