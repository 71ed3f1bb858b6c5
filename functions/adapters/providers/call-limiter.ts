/**
 * Bounds the calls to one provider: at most `concurrency` requests in flight and at most
 * `ratePerSecond` request starts per second (requests are spaced evenly, no bursts).
 */

interface CallLimiterOptions {
  concurrency: number;
  ratePerSecond?: number | undefined;
  now(): number;
  sleep(ms: number): Promise<void>;
}

interface CallLimiter {
  /**
   * Waits for a free slot and a rate token; call the returned function to free the slot. With
   * `latestStartAt` (ms since epoch), gives up with SlotWaitExpiredError rather than start later.
   */
  acquire(latestStartAt?: number): Promise<() => void>;
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

function createCallLimiter(options: CallLimiterOptions): CallLimiter {
  const waiting: Array<() => void> = [];
  let inFlight = 0;
  let nextStartAt = 0;
  const intervalMs = options.ratePerSecond ? 1000 / options.ratePerSecond : 0;

  function release(): void {
    const next = waiting.shift();
    // Hand the slot straight to the next waiter so the count never overshoots.
    if (next) next();
    else inFlight -= 1;
  }

  async function takeSlot(latestStartAt: number | undefined): Promise<void> {
    if (inFlight < options.concurrency) {
      inFlight += 1;
      return;
    }
    if (latestStartAt === undefined) {
      await new Promise<void>((resolve) => waiting.push(resolve));
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiter = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(
        () => {
          // Still waiting (a handed-over slot removed it already): leave the line, give up.
          const at = waiting.indexOf(waiter);
          if (at === -1) return;
          waiting.splice(at, 1);
          reject(new SlotWaitExpiredError('slot'));
        },
        Math.max(0, latestStartAt - options.now()),
      );
      waiting.push(waiter);
    });
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
      let released = false;
      return () => {
        if (released) return;
        released = true;
        release();
      };
    },
  };
}

export type { CallLimiter, CallLimiterOptions };
export { createCallLimiter, SlotWaitExpiredError };
