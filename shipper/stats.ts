/** Counters and the one-line log of the shipper (stderr or --log-file). Never logs credentials. */
import { appendFileSync } from 'node:fs';

interface ShipperStats {
  received: number;
  sent: number;
  messages: number;
  requests: number;
  sqsErrors: number;
  spooledBytes: number;
  segments: number;
  /** Messages packed and not yet acknowledged / SendMessageBatch calls under way. */
  pendingMessages: number;
  inflightRequests: number;
}

type LogLevel = 'info' | 'warn' | 'error';

interface ShipperLog {
  line: (level: LogLevel, text: string) => void;
  /** Logs at most once per `everyMs` for the same key (repeated failures during an outage). */
  throttled: (key: string, everyMs: number, level: LogLevel, text: string) => void;
}

function createShipperLog(logFile: string | undefined): ShipperLog {
  const last = new Map<string, number>();
  const line = (level: LogLevel, text: string): void => {
    const out = `${new Date().toISOString()} pmta-shipper ${level} ${text}\n`;
    try {
      if (logFile) appendFileSync(logFile, out);
      else process.stderr.write(out);
    } catch {
      // Logging must never take the pipe down (full disk, log file removed).
    }
  };
  return {
    line,
    throttled(key, everyMs, level, text) {
      const now = Date.now();
      if ((last.get(key) ?? 0) + everyMs > now) return;
      last.set(key, now);
      line(level, text);
    },
  };
}

function formatStats(s: ShipperStats): string {
  return `stats received=${s.received} sent=${s.sent} messages=${s.messages} requests=${s.requests} spooledBytes=${s.spooledBytes} segments=${s.segments} sqsErrors=${s.sqsErrors} pending=${s.pendingMessages} inflight=${s.inflightRequests}`;
}

/** An error as one log phrase: its name and message (never a stack with request details). */
function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

export type { LogLevel, ShipperLog, ShipperStats };
export { createShipperLog, describeError, formatStats };
