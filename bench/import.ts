/**
 * `node --import tsx bench/import.ts [ROWS]`: generates a Mailgun-style bounces export (default 1M
 * rows, one in a thousand malformed), then measures, each in its own process, bare csv-parse over
 * it (the baseline) and `suppressions import` into a fresh SQLite state, recorded only and with
 * the rows already present (every row `already`). Prints rows/s, the ratio to the baseline and peak
 * RSS: memory must stay flat whatever the row count (docs/benchmarks.md).
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeLines } from './write-lines.ts';

const COUNT = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-bench-import-'));
const file = join(dir, 'bounces.csv');

/** Mailgun bounce rows; every 1,000th address is broken (a reject with its line number). */
function* mailgunRows(): Generator<string> {
  yield 'address,code,error,created_at';
  const start = Date.UTC(2026, 0, 1) / 1000;
  for (let i = 0; i < COUNT; i++) {
    const address = i % 1000 === 999 ? `broken${i}@@example.com` : `user${i}@d${i % 5000}.example.com`;
    const when = new Date((start + i * 7) * 1000).toUTCString();
    yield `${address},550,"550 5.1.1 <${address}>: Recipient address rejected: User unknown","${when}"`;
  }
}

function generate(): Promise<void> {
  return writeLines(file, mailgunRows());
}

interface Result {
  records: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMb: number;
}

function child(args: string[]): Result {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(import.meta.dirname, 'process-child.ts'), ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, PMTA_BOUNCE_CONFIG: '' },
      maxBuffer: 1 << 20,
      timeout: 30 * 60_000,
      // Rejected rows are reported on stderr, one line each: not measured.
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

await generate();
console.log(
  `input: ${COUNT.toLocaleString('en-US')} rows, ${(statSync(file).size / 1048576).toFixed(1)} MiB`,
);
const state = join(dir, 'state.db');
const importArgs = ['cli', 'suppressions', 'import', file, '--format', 'mailgun', '--json', '--state', state];
const bare = child(['bare', file]);
const fresh = child(importArgs);
const again = child(importArgs);
console.log('| run | rows | seconds | rows/s | vs bare csv-parse | peak RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, r] of [
  ['bare csv-parse', bare],
  ['suppressions import (new state, recorded only)', fresh],
  ['suppressions import again (every row already)', again],
] as const) {
  const ratio = (r.recordsPerSecond / bare.recordsPerSecond).toFixed(2);
  console.log(
    `| ${name} | ${r.records} | ${r.seconds.toFixed(2)} | ${r.recordsPerSecond.toLocaleString('en-US')} | ${ratio} | ${r.peakRssMb} |`,
  );
}
rmSync(dir, { recursive: true, force: true });
