/**
 * What a command needs from its process, injectable so commands run in-process in tests.
 */
import type { Readable, Writable } from 'node:stream';

interface CliIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable & { isTTY?: boolean };
  stderr: Writable & { isTTY?: boolean; columns?: number };
  env: Record<string, string | undefined>;
  now(): number;
}

/**
 * A reader that stops early (`pmta-bounce suppressions export | head`) closes the pipe: the rest of
 * the output has nobody to go to, so the command ends quietly, as Unix tools do, instead of with
 * an unhandled EPIPE. Every state write is committed before a command prints, or rolled back on
 * exit as after a crash. Other stdout errors stay errors.
 */
let closedPipeHandled = false;

function endQuietlyOnClosedPipe(): void {
  // A flag, not stdout's listener count: a stream piped into stdout (under tsx's loader) adds an
  // 'error' listener of its own, which rethrows EPIPE once it has unpiped itself.
  if (closedPipeHandled) return;
  closedPipeHandled = true;
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

function processIo(): CliIo {
  endQuietlyOnClosedPipe();
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    now: () => Date.now(),
  };
}

/** Exit codes (docs/interfaces.md §2). */
const ExitCode = {
  ok: 0,
  /** Usage or configuration error: nothing processed. */
  usage: 2,
  /** Finished, but some actions failed after retries. */
  actionsFailed: 3,
  /** EX_TEMPFAIL (sysexits.h): the state could not be written or read; run again once fixed. */
  stateUnavailable: 75,
} as const;

export type { CliIo };
export { ExitCode, processIo };
