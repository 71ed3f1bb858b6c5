/**
 * Shipper benchmark: pipes N realistic bounce records (default 1M) into the bundled shipper
 * (dist/pmta-shipper.js, built first if missing) against fauxqs on 127.0.0.1, and prints
 * records/s, SQS requests, records per message and peak RSS; then the same input with SQS
 * unreachable until all of it is spooled (a backlog of N records, then drained: peak RSS must not
 * grow with it); then naive one-record-per-message shipping (SendMessage per record) on a bounded
 * subset, extrapolated.
 *
 *   node --import tsx bench/shipper.ts [--records 1000000] [--compression br|gzip] [--naive-records 20000] [--naive-seconds 20]
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCredentialChain } from '../shipper/credentials/aws-credentials.ts';
import { SqsClient } from '../shipper/sqs/sqs-client.ts';
import { ACCT_HEADER, createRecordGenerator } from '../test/support/builders.ts';
import { startSqsFaultProxy } from '../test/support/sqs-fault-proxy.ts';
import { startSqsServer, TEST_CREDENTIALS } from '../test/support/sqs-server.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench/out');
const BUNDLE = join(ROOT, 'dist/pmta-shipper.js');
const RUN_LIMIT_MS = 10 * 60_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      compression: { type: 'string', default: 'br' },
      'naive-records': { type: 'string', default: '20000' },
      'naive-seconds': { type: 'string', default: '20' },
      'naive-child': { type: 'boolean', default: false },
      'queue-url': { type: 'string' },
      'endpoint-url': { type: 'string' },
    },
  });
  if (values['naive-child'])
    return naiveChild(values['queue-url'] as string, values['endpoint-url'] as string);
  const records = Number(values.records);
  mkdirSync(OUT, { recursive: true });
  const input = join(OUT, `acct-${records}.csv`);
  if (!existsSync(input)) await writeInput(input, records);
  const inputBytes = readFileSync(input).length;
  if (!existsSync(BUNDLE)) spawnSync('node', ['scripts/build.js'], { cwd: ROOT, stdio: 'inherit' });

  const loadBefore = loadavg()[0]?.toFixed(1);
  const sqs = await startSqsServer();
  try {
    const queueUrl = await sqs.createQueue('bench-records');
    const spool = join(OUT, 'spool');
    rmSync(spool, { recursive: true, force: true });
    const shipper = await runChild(
      // The bundle runs as installed: its first line holds the runtime flags (scripts/build.js).
      BUNDLE,
      [
        '--queue-url',
        queueUrl,
        '--endpoint-url',
        sqs.endpoint,
        '--spool-dir',
        spool,
        '--stats-interval-ms',
        '0',
        '--drain-timeout-ms',
        '50000',
        '--compression',
        String(values.compression),
      ],
      input,
      RUN_LIMIT_MS,
    );
    const stats = parseStats(shipper.stderr);
    if (stats.sent !== records)
      throw new Error(`shipper sent ${stats.sent} of ${records} records:\n${shipper.stderr}`);

    // Backlog: SQS unreachable until every record is spooled, then reachable again.
    const proxy = await startSqsFaultProxy(sqs.endpoint);
    const backlogQueue = await sqs.createQueue('bench-backlog');
    rmSync(spool, { recursive: true, force: true });
    await proxy.down();
    let upAtMs = 0;
    const backlog = await runChild(
      // The bundle runs as installed: its first line holds the runtime flags (scripts/build.js).
      BUNDLE,
      [
        '--queue-url',
        backlogQueue,
        '--endpoint-url',
        proxy.endpoint,
        '--spool-dir',
        spool,
        '--stats-interval-ms',
        '200',
        '--drain-timeout-ms',
        '50000',
      ],
      input,
      RUN_LIMIT_MS,
      (stderr, ms) => {
        if (upAtMs === 0 && lastStat(stderr, 'received') === records) {
          upAtMs = ms;
          void proxy.up();
        }
      },
    );
    await proxy.stop();
    const backlogStats = parseStats(backlog.stderr);
    if (backlogStats.sent !== records)
      throw new Error(`backlog run sent ${backlogStats.sent} of ${records} records:\n${backlog.stderr}`);

    const naiveN = Math.min(records, Number(values['naive-records']));
    const naiveInput = join(OUT, `acct-${naiveN}.csv`);
    if (!existsSync(naiveInput)) await writeInput(naiveInput, naiveN);
    const naiveQueue = await sqs.createQueue('bench-naive');
    const naive = await runChild(
      'node',
      [
        '--import',
        'tsx',
        join(ROOT, 'bench/shipper.ts'),
        '--naive-child',
        '--queue-url',
        naiveQueue,
        '--endpoint-url',
        sqs.endpoint,
      ],
      naiveInput,
      Number(values['naive-seconds']) * 1000,
    );
    const naiveSent = Number(/sent=(\d+)/.exec(naive.stderr)?.[1] ?? 0);
    const naiveRate = naiveSent / (naive.ms / 1000);

    const rate = records / (shipper.ms / 1000);
    const lines = [
      `Shipper benchmark (--compression ${values.compression}) — ${records} records (${(inputBytes / 1e6).toFixed(0)} MB, ${(inputBytes / records).toFixed(0)} B/record), fauxqs on 127.0.0.1, node ${process.version}, ${availableParallelism()} cores, load average at start ${loadBefore}`,
      `pmta-shipper (bundle): ${fmt(rate)} records/s (${(shipper.ms / 1000).toFixed(2)} s to all acknowledged; stdin fully read after ${(shipper.inputMs / 1000).toFixed(2)} s = ${fmt(records / (shipper.inputMs / 1000))} records/s), ${stats.requests} SendMessageBatch calls, ${stats.messages} messages, ${(stats.sent / stats.messages).toFixed(0)} records/message, peak RSS ${(shipper.peakRssKb / 1024).toFixed(1)} MB, CPU ${(shipper.cpuMs / 1000).toFixed(1)} core-seconds (${((shipper.cpuMs * 1000) / records).toFixed(1)} µs/record)`,
      `backlog (SQS unreachable until all ${records} records were spooled, ${(upAtMs / 1000).toFixed(2)} s; then drained in ${((backlog.ms - upAtMs) / 1000).toFixed(2)} s = ${fmt(records / ((backlog.ms - upAtMs) / 1000))} records/s): ${backlogStats.requests} SendMessageBatch calls, peak RSS ${(backlog.peakRssKb / 1024).toFixed(1)} MB`,
      `naive (one SendMessage per record, ${naiveSent} records in ${(naive.ms / 1000).toFixed(1)} s, extrapolated to ${records}): ${fmt(naiveRate)} records/s, ${records} SQS requests, ${records} messages, 1 record/message, ~${fmt(records / naiveRate)} s for ${records} records, peak RSS ${(naive.peakRssKb / 1024).toFixed(1)} MB`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await sqs.stop();
  }
}

async function writeInput(path: string, records: number): Promise<void> {
  const gen = createRecordGenerator(42);
  const out = createWriteStream(path);
  out.write(`${ACCT_HEADER}\r\n`);
  let batch: string[] = [];
  for (let i = 0; i < records; i++) {
    batch.push(gen(i));
    if (batch.length === 5000 || i === records - 1) {
      if (!out.write(`${batch.join('\r\n')}\r\n`))
        await new Promise<void>((r) => out.once('drain', () => r()));
      batch = [];
    }
  }
  await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
}

interface ChildRun {
  ms: number;
  /** When the last input byte was taken by the child's stdin pipe. */
  inputMs: number;
  /** CPU time of the child, all threads (sampled every 50 ms). */
  cpuMs: number;
  stderr: string;
  peakRssKb: number;
}

/** Runs a child with `input` piped to its stdin; stops it (SIGTERM) after `limitMs`. */
function runChild(
  cmd: string,
  args: string[],
  input: string,
  limitMs: number,
  onStderr?: (stderr: string, ms: number) => void,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let inputMs = 0;
    // PowerMTA writes into the pipe from its own process: `cat` plays that part, so feeding the
    // pipe costs this process (which also runs the SQS server) nothing.
    const feeder = spawn('cat', [input], { stdio: ['ignore', 'pipe', 'inherit'] });
    feeder.on('exit', () => {
      inputMs = performance.now() - started;
    });
    const child = spawn(cmd, args, {
      stdio: [feeder.stdout, 'ignore', 'pipe'],
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      },
    });
    let stderr = '';
    let peakRssKb = 0;
    child.stderr.on('data', (d) => {
      stderr += d;
      onStderr?.(stderr, performance.now() - started);
    });
    let cpuMs = 0;
    const poll = setInterval(() => {
      try {
        const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (hwm) peakRssKb = Math.max(peakRssKb, Number(hwm[1]));
        // utime + stime of all threads, in clock ticks (100 per second on Linux)
        const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        cpuMs = (Number(fields[11]) + Number(fields[12])) * 10;
      } catch {
        // exited
      }
    }, 50);
    const limit = setTimeout(() => child.kill('SIGTERM'), limitMs);
    child.on('error', reject);
    child.on('exit', () => {
      clearInterval(poll);
      clearTimeout(limit);
      feeder.kill();
      resolve({ ms: performance.now() - started, inputMs, stderr, peakRssKb, cpuMs });
    });
  });
}

/** The latest value of `key=` in the child's stats lines. */
function lastStat(stderr: string, key: string): number {
  const all = [...stderr.matchAll(new RegExp(`stats .*\\b${key}=(\\d+)`, 'g'))];
  return Number(all.at(-1)?.[1] ?? Number.NaN);
}

function parseStats(stderr: string): { sent: number; messages: number; requests: number } {
  const line =
    stderr
      .split('\n')
      .filter((l) => l.includes(' stats '))
      .pop() ?? '';
  const get = (k: string): number => Number(new RegExp(`${k}=(\\d+)`).exec(line)?.[1] ?? Number.NaN);
  return { sent: get('sent'), messages: get('messages'), requests: get('requests') };
}

/** Naive shipper: one SendMessage per line, one at a time; stops at SIGTERM and reports. */
async function naiveChild(queueUrl: string, endpoint: string): Promise<void> {
  // The shipper's own client: the baseline differs only in packing, not in the HTTP client.
  const client = new SqsClient({ region: 'us-east-1', endpoint, credentials: createCredentialChain() });
  let sent = 0;
  let stop = false;
  process.on('SIGTERM', () => {
    stop = true;
  });
  let carry = '';
  for await (const chunk of process.stdin) {
    const parts = (carry + chunk).split('\r\n');
    carry = parts.pop() ?? '';
    for (const line of parts) {
      if (stop) break;
      await client.sendMessage(queueUrl, line);
      sent++;
    }
    if (stop) break;
  }
  process.stderr.write(`naive sent=${sent}\n`);
  process.exit(0);
}

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

await main();
