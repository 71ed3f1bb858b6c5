/**
 * `pmta-bounce ARGV` in-process with its output as text: for commands whose stdout is not one
 * JSON summary (export, undo). `tty` makes stdin/stderr look like a terminal (confirmation prompts).
 */
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '#cli/cli-io.ts';
import { main } from '#cli/main.ts';

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function runCliText(
  argv: string[],
  options: { env?: Record<string, string>; stdin?: string; tty?: boolean; now?: () => number } = {},
): Promise<CliRun> {
  const out = { stdout: '', stderr: '' };
  const stdout = new PassThrough();
  const stderr = Object.assign(new PassThrough(), { isTTY: options.tty ?? false });
  stdout.on('data', (d) => {
    out.stdout += d;
  });
  stderr.on('data', (d) => {
    out.stderr += d;
  });
  const stdin = Object.assign(Readable.from([options.stdin ?? '']), { isTTY: options.tty ?? false });
  const io: CliIo = { stdin, stdout, stderr, env: options.env ?? {}, now: options.now ?? (() => Date.now()) };
  const code = await main(argv, io);
  return { code, ...out };
}

export type { CliRun };
export { runCliText };
