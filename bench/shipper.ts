/**
 * Shipper benchmark: pipes N realistic bounce records (default 1M) into the bundled shipper
 * (dist/pmta-shipper.js, built first if missing) against fauxqs on 127.0.0.1, and prints
 * records/s, SQS requests, records per message and peak RSS; then the same input with SQS
 * unreachable until all of it is spooled (a backlog of N records, then drained: peak RSS must not
 * grow with it); then naive one-record-per-message shipping (SendMessage per record) on a bounded
 * subset, extrapolated.
 *
 *   node --import tsx bench/shipper.ts [--records 1000000] [--compression br|gzip] [--naive-records 20000] [--naive-seconds 20] [--bundle dist/pmta-shipper.js]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createCredentialChain } from '../shipper/credentials/aws-credentials.ts';
import { SqsClient } from '../shipper/sqs/sqs-client.ts';
import { startSqsFaultProxy } from '../test/support/sqs-fault-proxy.ts';
import { startSqsServer } from '../test/support/sqs-server.ts';
import { fmt, lastStat, parseStats, runChild, writeInput } from './shipper-child.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench/out');
const DEFAULT_BUNDLE = join(ROOT, 'dist/pmta-shipper.js');
const RUN_LIMIT_MS = 10 * 60_000;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '1000000' },
      compression: { type: 'string', default: 'br' },
      'naive-records': { type: 'string', default: '20000' },
      'naive-seconds': { type: 'string', default: '20' },
      'naive-child': { type: 'boolean', default: false },
      /** Another build of the shipper (an earlier commit's, to compare in one session). */
      bundle: { type: 'string', default: DEFAULT_BUNDLE },
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
  const bundle = values.bundle as string;
  if (bundle === DEFAULT_BUNDLE && !existsSync(bundle))
    spawnSync('node', ['scripts/build.js'], { cwd: ROOT, stdio: 'inherit' });

  const loadBefore = loadavg()[0]?.toFixed(1);
  const sqs = await startSqsServer();
  try {
    const queueUrl = await sqs.createQueue('bench-records');
    const spool = join(OUT, 'spool');
    rmSync(spool, { recursive: true, force: true });
    const shipper = await runChild(
      // The bundle runs as installed: its first line holds the runtime flags (scripts/build.js).
      bundle,
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
      bundle,
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
      `pmta-shipper (${bundle === DEFAULT_BUNDLE ? 'bundle' : bundle}): ${fmt(rate)} records/s (${(shipper.ms / 1000).toFixed(2)} s to all acknowledged; stdin fully read after ${(shipper.inputMs / 1000).toFixed(2)} s = ${fmt(records / (shipper.inputMs / 1000))} records/s), ${stats.requests} SendMessageBatch calls, ${stats.messages} messages, ${(stats.sent / stats.messages).toFixed(0)} records/message, peak RSS ${(shipper.peakRssKb / 1024).toFixed(1)} MB, CPU ${(shipper.cpuMs / 1000).toFixed(1)} core-seconds (${((shipper.cpuMs * 1000) / records).toFixed(1)} µs/record)`,
      `backlog (SQS unreachable until all ${records} records were spooled, ${(upAtMs / 1000).toFixed(2)} s; then drained in ${((backlog.ms - upAtMs) / 1000).toFixed(2)} s = ${fmt(records / ((backlog.ms - upAtMs) / 1000))} records/s): ${backlogStats.requests} SendMessageBatch calls, peak RSS ${(backlog.peakRssKb / 1024).toFixed(1)} MB`,
      `naive (one SendMessage per record, ${naiveSent} records in ${(naive.ms / 1000).toFixed(1)} s, extrapolated to ${records}): ${fmt(naiveRate)} records/s, ${records} SQS requests, ${records} messages, 1 record/message, ~${fmt(records / naiveRate)} s for ${records} records, peak RSS ${(naive.peakRssKb / 1024).toFixed(1)} MB`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await sqs.stop();
  }
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

await main();
