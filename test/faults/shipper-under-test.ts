/**
 * The real shipper process (bin/pmta-shipper.js) as the fault matrix drives it: written to like
 * PowerMTA's pipe, killed, restarted on the same spool, and its spool read back.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '#test/support/wait.ts';

const ROOT = join(import.meta.dirname, '../..');

interface Shipper {
  write(text: string): Promise<void>;
  kill(): Promise<void>;
  /** Closes stdin and waits for a clean exit (bounded). */
  finish(ms: number): Promise<boolean>;
}

function startShipper(spoolDir: string, queueUrl: string, endpoint: string): Shipper {
  const child = spawn(
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
      spoolDir,
      '--flush-interval-ms',
      '100',
      '--drain-timeout-ms',
      '3000',
      '--stats-interval-ms',
      '600000',
    ],
    {
      cwd: ROOT,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.on('error', () => {});
  return {
    write: (text) =>
      new Promise((resolve) => {
        if (!child.stdin || child.stdin.destroyed) return resolve();
        child.stdin.write(text, () => resolve());
      }),
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async finish(ms) {
      child.stdin?.end();
      const timer = sleep(ms).then(() => false);
      const ok = await Promise.race([exited.then(() => true), timer]);
      if (!ok) {
        child.kill('SIGKILL');
        await exited;
      }
      return ok;
    },
  };
}

/** Every complete line in the spool's segment files (what the shipper has read and kept). */
function spoolLines(spoolDir: string): Set<string> {
  const lines = new Set<string>();
  for (const name of readdirSync(spoolDir)) {
    if (!name.endsWith('.seg')) continue;
    const text = readFileSync(join(spoolDir, name), 'utf8');
    const parts = text.split('\n');
    parts.pop(); // the last part has no line end yet
    for (const l of parts) lines.add(l);
  }
  return lines;
}

function spoolBytes(spoolDir: string): number {
  let n = 0;
  for (const name of readdirSync(spoolDir))
    if (name.endsWith('.seg')) n += readFileSync(join(spoolDir, name)).length;
  return n;
}

export type { Shipper };
export { spoolBytes, spoolLines, startShipper };
