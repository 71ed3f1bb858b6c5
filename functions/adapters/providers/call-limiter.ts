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
  /** Waits for a free slot and a rate token; call the returned function to free the slot. */
  acquire(): Promise<() => void>;
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

  async function takeSlot(): Promise<void> {
    if (inFlight < options.concurrency) {
      inFlight += 1;
      return;
    }
    await new Promise<void>((resolve) => waiting.push(resolve));
  }

  async function takeRateToken(): Promise<void> {
    if (intervalMs === 0) return;
    const now = options.now();
    const startAt = Math.max(now, nextStartAt);
    nextStartAt = startAt + intervalMs;
    if (startAt > now) await options.sleep(startAt - now);
  }

  return {
    async acquire() {
      await takeSlot();
      try {
        await takeRateToken();
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
export { createCallLimiter };
