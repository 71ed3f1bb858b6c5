/**
 * Bounds the calls to one provider: at most `concurrency` requests in flight (fewer while the
 * adaptive window says so: adaptive-window.ts) and at most `ratePerSecond` request starts per
 * second (requests are spaced evenly, no bursts). Waiters are served in arrival order.
 */
import { AdaptiveWindow, type CallOutcome } from './adaptive-window.ts';

interface CallLimiterOptions {
  concurrency: number;
  ratePerSecond?: number | undefined;
  now(): number;
  sleep(ms: number): Promise<void>;
}

interface CallLimiter {
  /**
   * Waits for a free slot and a rate token; call the returned function to free the slot, with the
   * request's outcome when it was sent (it moves the window). With `latestStartAt` (ms since
   * epoch), gives up with SlotWaitExpiredError rather than start later.
   */
  acquire(latestStartAt?: number): Promise<(outcome?: CallOutcome) => void>;
  /** Requests allowed in flight now: the adaptive window, at most `concurrency`. */
  limit(): number;
}

/** No slot or rate token came in time: the caller hands its work back for later instead. */
class SlotWaitExpiredError extends Error {
  constructor(waitedFor: 'time' | 'slot' | 'rate') {
    const what = { time: 'time left for a call', slot: 'free call slot', rate: 'rate-limit token' }[
      waitedFor
    ];
    super(`no ${what} before the deadline`);
    this.name = 'SlotWaitExpiredError';
  }
}

/** Joins the line of waiters; gives up (SlotWaitExpiredError) if not admitted within `waitMs`. */
function waitInLine(waiting: Array<() => void>, waitMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const waiter = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      // Still waiting (an admitted waiter was removed already): leave the line, give up.
      const at = waiting.indexOf(waiter);
      if (at === -1) return;
      waiting.splice(at, 1);
      reject(new SlotWaitExpiredError('slot'));
    }, waitMs);
    waiting.push(waiter);
  });
}

function createCallLimiter(options: CallLimiterOptions): CallLimiter {
  const waiting: Array<() => void> = [];
  const window = new AdaptiveWindow(options.concurrency);
  let inFlight = 0;
  let nextStartAt = 0;
  const intervalMs = options.ratePerSecond ? 1000 / options.ratePerSecond : 0;

  /** Slots go to waiters, counted here before they run, so the count never overshoots. */
  function admit(): void {
    while (waiting.length > 0 && inFlight < window.limit) {
      inFlight += 1;
      waiting.shift()!();
    }
  }

  function release(): void {
    inFlight -= 1;
    admit();
  }

  async function takeSlot(latestStartAt: number | undefined): Promise<void> {
    if (inFlight < window.limit && waiting.length === 0) {
      inFlight += 1;
      return;
    }
    if (latestStartAt === undefined) {
      await new Promise<void>((resolve) => waiting.push(resolve));
      return;
    }
    await waitInLine(waiting, Math.max(0, latestStartAt - options.now()));
  }

  async function takeRateToken(latestStartAt: number | undefined): Promise<void> {
    if (intervalMs === 0) return;
    const now = options.now();
    const startAt = Math.max(now, nextStartAt);
    if (latestStartAt !== undefined && startAt > latestStartAt) throw new SlotWaitExpiredError('rate');
    nextStartAt = startAt + intervalMs;
    if (startAt > now) await options.sleep(startAt - now);
  }

  return {
    limit: () => window.limit,
    async acquire(latestStartAt) {
      if (latestStartAt !== undefined && options.now() > latestStartAt)
        throw new SlotWaitExpiredError('time');
      await takeSlot(latestStartAt);
      try {
        await takeRateToken(latestStartAt);
      } catch (error) {
        release();
        throw error;
      }
      const startedAt = options.now();
      const windowFull = inFlight >= window.limit;
      let released = false;
      return (outcome) => {
        if (released) return;
        released = true;
        if (outcome) window.record(outcome, startedAt, windowFull, options.now());
        release();
      };
    },
  };
}

export type { CallLimiter, CallLimiterOptions };
export { createCallLimiter, SlotWaitExpiredError };
