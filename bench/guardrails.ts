/**
 * `node --import tsx bench/guardrails.ts [RECORDS]`: what logging `d` records costs local mode
 * (docs/benchmarks.md). Two files of the same size in records: the usual bounce mix without
 * deliveries, and one with ten deliveries per bounce. Each runs `process` with SQLite state (and
 * the deliverability counts) in its own process; the ratio compares records/s in the same run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAccountingLines } from '../test/support/builders.ts';
import { writeLines } from './write-lines.ts';

const COUNT = Number(process.argv[2] ?? 300_000);
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-guardrails-bench-'));

function generate(file: string, deliveryShare: number): Promise<void> {
  return writeLines(
    file,
    generateAccountingLines(COUNT, { recipients: Math.floor(COUNT / 2), deliveryShare }),
  );
}

interface Result {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMb: number;
}

function run(file: string, state: string): Result {
  const out = execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(import.meta.dirname, 'process-child.ts'),
      'cli',
      'process',
      file,
      '--json',
      '--state',
      state,
    ],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        PMTA_BOUNCE_CONFIG: '',
      },
      timeout: 20 * 60_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

const bouncesOnly = join(dir, 'bounces.csv');
const withDeliveries = join(dir, 'deliveries.csv');
await generate(bouncesOnly, 0);
// 3 % complaints stay; of the rest, ten deliveries per bounce.
await generate(withDeliveries, (0.97 * 10) / 11);
console.log(`records per file: ${COUNT.toLocaleString('en-US')}`);
console.log('| run | records/s | seconds | peak RSS MB | vs bounces only |');
console.log('|---|---:|---:|---:|---:|');
const base = run(bouncesOnly, join(dir, 'a.db'));
const mixed = run(withDeliveries, join(dir, 'b.db'));
for (const [name, r] of [
  ['bounces only', base],
  ['d records at 10x bounces', mixed],
] as const) {
  const ratio = (r.recordsPerSecond / base.recordsPerSecond).toFixed(2);
  console.log(
    `| ${name} | ${r.recordsPerSecond.toLocaleString('en-US')} | ${r.seconds.toFixed(2)} | ${r.peakRssMb} | ${ratio} |`,
  );
}
rmSync(dir, { recursive: true, force: true });
