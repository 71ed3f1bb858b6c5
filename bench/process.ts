/**
 * `npm run bench:process [-- RECORDS]`: generates a realistic accounting file (default 1M records),
 * then measures, each in its own process, bare csv-parse, `process --dry-run` and `process` with
 * SQLite state on the same file (once at synchronous=NORMAL as the baseline for what the product's
 * FULL costs), and prints records/s, ratios and peak RSS.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAccountingLines } from '../test/support/builders.ts';
import { writeLines } from './write-lines.ts';

const COUNT = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-bench-'));
const file = join(dir, 'acct.csv');

function generate(): Promise<void> {
  return writeLines(file, generateAccountingLines(COUNT, { recipients: Math.floor(COUNT / 2) }), '\r\n');
}

interface Result {
  mode: string;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  peakRssMb: number;
}

/** The V8 flags the installed `pmta-bounce` runs with (its shebang line), so RSS is what users get. */
const BIN_FLAGS = (
  readFileSync(join(import.meta.dirname, '../bin/pmta-bounce.js'), 'utf8').split('\n')[0] ?? ''
)
  .split(' ')
  .filter((f) => f.startsWith('--'));

/** One measured child; `stdinFile` feeds it as PowerMTA's pipe would (`process -`). */
function child(args: string[], stdinFile?: string): Result {
  const flags = args[0] === 'bare' ? [] : BIN_FLAGS;
  const stdin = stdinFile ? openSync(stdinFile, 'r') : 'ignore';
  const out = execFileSync(
    process.execPath,
    [...flags, '--import', 'tsx', join(import.meta.dirname, 'process-child.ts'), ...args],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        PMTA_BOUNCE_CONFIG: '',
      },
      maxBuffer: 1 << 20,
      timeout: 30 * 60_000,
      stdio: [stdin, 'pipe', 'inherit'],
    },
  );
  if (typeof stdin === 'number') closeSync(stdin);
  return JSON.parse(out.trim().split('\n').pop()!) as Result;
}

await generate();
const size = statSync(file).size;
console.log(`pmta-bounce runs with: node ${BIN_FLAGS.join(' ')}`);
console.log(`input: ${COUNT.toLocaleString('en-US')} records, ${(size / 1048576).toFixed(1)} MiB (${file})`);
const bare = child(['bare', file]);
const dry = child(['cli', 'process', file, '--dry-run', '--json', '--state', join(dir, 'none.db')]);
/**
 * NORMAL against FULL, file and pipe, interleaved twice; the faster of each pair is kept, so a
 * burst of load on a shared box hits both sides alike (the ratio is what matters).
 */
let runs = 0;
const stateRun = (mode: 'cli' | 'cli-sync-normal', input: string) =>
  child(
    [mode, 'process', input, '--json', '--state', join(dir, `s${runs++}.db`)],
    input === '-' ? file : undefined,
  );
const round = () => ({
  normal: stateRun('cli-sync-normal', file),
  state: stateRun('cli', file),
  pipeNormal: stateRun('cli-sync-normal', '-'),
  pipeFull: stateRun('cli', '-'),
});
const [first, second] = [round(), round()];
const faster = (a: Result, b: Result): Result => (a.seconds <= b.seconds ? a : b);
const normal = faster(first.normal, second.normal);
const state = faster(first.state, second.state);
const pipeNormal = faster(first.pipeNormal, second.pipeNormal);
const pipeFull = faster(first.pipeFull, second.pipeFull);
const rows = [
  ['bare csv-parse', bare],
  ['process --dry-run', dry],
  ['process (SQLite state, synchronous=NORMAL)', normal],
  ['process (SQLite state, synchronous=FULL: the product)', state],
  ['process - (pipe, synchronous=NORMAL)', pipeNormal],
  ['process - (pipe, synchronous=FULL: the product)', pipeFull],
] as const;
console.log('| run | records | seconds | records/s | vs bare csv-parse | peak RSS MB |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [name, r] of rows) {
  const ratio = (r.recordsPerSecond / bare.recordsPerSecond).toFixed(2);
  console.log(
    `| ${name} | ${r.records} | ${r.seconds.toFixed(2)} | ${r.recordsPerSecond.toLocaleString('en-US')} | ${ratio} | ${r.peakRssMb} |`,
  );
}
const cost = (full: Result, base: Result) => `${(full.recordsPerSecond / base.recordsPerSecond).toFixed(2)}`;
console.log(
  `synchronous=FULL vs NORMAL, records/s ratio: file ${cost(state, normal)}, pipe ${cost(pipeFull, pipeNormal)}`,
);
rmSync(dir, { recursive: true, force: true });
