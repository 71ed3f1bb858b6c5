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

function processIo(): CliIo {
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
} as const;

export type { CliIo };
export { ExitCode, processIo };
