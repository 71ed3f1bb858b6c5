/**
 * Running the bundled shipper as a child process for the benchmarks: the generated input, the
 * child with its stdin a pipe fed by `cat` (as PowerMTA writes from its own process), its peak RSS
 * and CPU from /proc, and its final stats line.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { ACCT_HEADER, createRecordGenerator } from '../test/support/builders.ts';
import { TEST_CREDENTIALS } from '../test/support/sqs-server.ts';

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

/** The test server's keys, in the environment (the first source of every credential chain). */
const TEST_KEYS_ENV = {
  ...process.env,
  AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
};

/** Runs a child with `input` piped to its stdin; stops it (SIGTERM) after `limitMs`. */
function runChild(
  cmd: string,
  args: string[],
  input: string,
  limitMs: number,
  onStderr?: (stderr: string, ms: number) => void,
  env: NodeJS.ProcessEnv = TEST_KEYS_ENV,
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
      env,
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

function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export type { ChildRun };
export { fmt, lastStat, parseStats, runChild, writeInput };
