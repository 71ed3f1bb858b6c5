/**
 * The PHP bouncehandler's log: timestamped lines to the console (`--debug`) or a file (`--logfile=PATH`).
 * Never receives credentials: callers log addresses, categories and outcomes only.
 */
import { appendFileSync } from 'node:fs';
import type { Writable } from 'node:stream';

interface RunLog {
  (message: string): void;
  readonly enabled: boolean;
}

function stamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

function createRunLog(options: {
  debug: boolean;
  logfile?: string | undefined;
  console: Writable;
  now: () => number;
}): RunLog {
  const { debug, logfile, now } = options;
  const write = (message: string): void => {
    // One line per message: a hostile value cannot forge extra log lines.
    const line = `[${stamp(now())}] ${message.replace(/[\r\n]+/g, ' ')}\n`;
    if (debug) options.console.write(line);
    if (logfile) appendFileSync(logfile, line);
  };
  const log = ((message: string) => {
    if (debug || logfile) write(message);
  }) as RunLog;
  Object.defineProperty(log, 'enabled', { value: debug || Boolean(logfile) });
  return log;
}

export type { RunLog };
export { createRunLog, stamp };
