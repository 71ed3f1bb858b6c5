/**
 * Spawns the real `pmta-bounce serve` (bin/pmta-bounce.js: node + tsx loader) on 127.0.0.1 with an
 * ephemeral port and waits for its `listening http://…` line, for tests and the benchmark.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '../..');

interface ServeRun {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  stop: () => Promise<number | null>;
}

async function spawnServe(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<ServeRun> {
  const child = spawn(
    process.execPath,
    [join(ROOT, 'bin/pmta-bounce.js'), 'serve', '--listen', '127.0.0.1:0', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${stderr}`)), timeoutMs);
    child.stdout?.on('data', (d) => {
      out += d;
      const match = /listening (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
  });
  const stop = async () => {
    child.kill('SIGTERM');
    return exited;
  };
  return { child, url, stderr: () => stderr, stop };
}

/** Polls `check` every 50 ms until it is true or `timeoutMs` passes; returns the last answer. */
async function eventually(check: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

export type { ServeRun };
export { eventually, spawnServe };
