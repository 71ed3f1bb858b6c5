import { describe, expect, it } from 'vitest';
import { AdaptiveWindow, FLAT_LATENCY_SLACK_MS, INITIAL_WINDOW } from '#providers/adaptive-window.ts';
import { createCallLimiter } from '#providers/call-limiter.ts';

const FAST = { latencyMs: 20, congested: false };
const SLOW = { latencyMs: 2 * 20 + FLAT_LATENCY_SLACK_MS + 1, congested: false };
const OVERLOADED = { latencyMs: 20, congested: true };

/** `n` answers, each sent at `at` and read at `at + 1`, the window full or not. */
function feed(window: AdaptiveWindow, outcome: typeof FAST, n: number, at: number, full = true): void {
  for (let i = 0; i < n; i++) window.record(outcome, at, full, at + 1);
}

describe('adaptive window', () => {
  it.each([
    { ceiling: 16, start: INITIAL_WINDOW },
    { ceiling: 4, start: 4 },
    { ceiling: 1, start: 1 },
    { ceiling: 64, start: INITIAL_WINDOW },
  ])('starts at min($ceiling, INITIAL_WINDOW) = $start', ({ ceiling, start }) => {
    expect(new AdaptiveWindow(ceiling).limit).toBe(start);
  });

  it.each([
    {
      name: 'grows by one per fast answer of a full window, up to the ceiling',
      outcome: FAST,
      full: true,
      n: 5,
      limit: 13,
    },
    { name: 'stops at the ceiling', outcome: FAST, full: true, n: 50, limit: 16 },
    { name: 'does not grow while the window is not full', outcome: FAST, full: false, n: 50, limit: 8 },
    {
      name: 'does not grow while answers are slower than twice the fastest',
      outcome: SLOW,
      full: true,
      n: 50,
      limit: 8,
    },
  ])('$name', ({ outcome, full, n, limit }) => {
    const window = new AdaptiveWindow(16);
    feed(window, FAST, 1, 0, false);
    feed(window, outcome, n, 10, full);
    expect(window.limit).toBe(limit);
  });

  it('halves on congestion, once per round trip, never below 1', () => {
    const window = new AdaptiveWindow(16);
    feed(window, FAST, 8, 0);
    expect(window.limit).toBe(16);
    window.record(OVERLOADED, 100, true, 120);
    expect(window.limit).toBe(8);
    // Sent before the cut at 120: the same episode, no second cut.
    window.record(OVERLOADED, 110, true, 125);
    expect(window.limit).toBe(8);
    for (let at = 200; at < 300; at += 20) window.record(OVERLOADED, at, true, at + 10);
    expect(window.limit).toBe(1);
  });

  it('backs off by one per round trip while answers are slow, not below where it started', () => {
    const window = new AdaptiveWindow(16);
    feed(window, FAST, 8, 0);
    expect(window.limit).toBe(16);
    feed(window, SLOW, 8, 10);
    expect(window.limit).toBe(15);
    feed(window, SLOW, 200, 20);
    expect(window.limit).toBe(INITIAL_WINDOW);
    // Slow answers ended slow start: fast ones now add one per round trip.
    feed(window, FAST, INITIAL_WINDOW, 30);
    expect(window.limit).toBe(INITIAL_WINDOW);
    feed(window, FAST, 1, 30);
    expect(window.limit).toBe(INITIAL_WINDOW + 1);
  });

  it('after a cut, grows by one per round trip (one per window of answers), not per answer', () => {
    const window = new AdaptiveWindow(16);
    window.record(OVERLOADED, 0, true, 20);
    expect(window.limit).toBe(4);
    feed(window, FAST, 3, 30);
    expect(window.limit).toBe(4);
    feed(window, FAST, 2, 30);
    expect(window.limit).toBe(5);
  });
});

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `calls` calls through a limiter; each holds its slot for a few ms and reports an outcome. */
async function drive(concurrency: number, calls: number, congestedShare: number, seed: number) {
  const random = rng(seed);
  const limiter = createCallLimiter({ concurrency, now: Date.now, sleep: async () => {} });
  let inFlight = 0;
  let most = 0;
  const limits: number[] = [];
  await Promise.all(
    Array.from({ length: calls }, async () => {
      const release = await limiter.acquire();
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, 1 + Math.floor(random() * 3)));
      inFlight -= 1;
      release({ latencyMs: 20 + random() * 10, congested: random() < congestedShare });
      limits.push(limiter.limit());
    }),
  );
  return { most, limits };
}

describe('call limiter with the adaptive window', () => {
  it.each([
    { concurrency: 1, congestedShare: 0 },
    { concurrency: 4, congestedShare: 0.1 },
    { concurrency: 16, congestedShare: 0 },
    { concurrency: 16, congestedShare: 0.3 },
    { concurrency: 23, congestedShare: 0.05 },
  ])(
    'never has more than concurrency=$concurrency in flight (congestion $congestedShare)',
    async ({ concurrency, congestedShare }) => {
      const { most, limits } = await drive(concurrency, 300, congestedShare, concurrency);
      expect(most).toBeLessThanOrEqual(concurrency);
      expect(Math.max(...limits)).toBeLessThanOrEqual(concurrency);
      expect(Math.min(...limits)).toBeGreaterThanOrEqual(1);
      // Without congestion the window opens fully and is used.
      if (congestedShare === 0) expect(most).toBe(concurrency);
    },
  );

  it('admits waiters in arrival order when a cut shrinks the window', async () => {
    const limiter = createCallLimiter({ concurrency: 4, now: Date.now, sleep: async () => {} });
    const releases = await Promise.all(Array.from({ length: 4 }, () => limiter.acquire()));
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) =>
      limiter.acquire().then((release) => {
        order.push(n);
        return release;
      }),
    );
    releases[0]!({ latencyMs: 20, congested: true });
    expect(limiter.limit()).toBe(2);
    await Promise.resolve();
    expect(order).toEqual([]);
    releases[1]!();
    releases[2]!();
    const first = await waiters[0]!;
    expect(order).toEqual([1]);
    first();
    releases[3]!();
    for (const w of waiters.slice(1)) (await w)();
    expect(order).toEqual([1, 2, 3]);
  });
});

/** A server with `workers` workers taking `serviceMs` each; requests beyond them queue (PHP-FPM). */
function queueingServer(workers: number, serviceMs: number) {
  let busy = 0;
  const queue: Array<() => void> = [];
  const finish = (): void => {
    busy -= 1;
    queue.shift()?.();
  };
  return (): Promise<void> =>
    new Promise((resolve) => {
      const run = (): void => {
        busy += 1;
        setTimeout(() => {
          finish();
          resolve();
        }, serviceMs);
      };
      if (busy < workers) run();
      else queue.push(run);
    });
}

describe('call limiter in front of a small worker pool', () => {
  it('settles where requests start to queue: about 2.4 times the pool in flight, not the ceiling', async () => {
    const limiter = createCallLimiter({ concurrency: 16, now: Date.now, sleep: async () => {} });
    const serve = queueingServer(5, 20);
    const limits: number[] = [];
    await Promise.all(
      Array.from({ length: 400 }, async () => {
        const release = await limiter.acquire();
        const started = Date.now();
        await serve();
        release({ latencyMs: Date.now() - started, congested: false });
        limits.push(limiter.limit());
      }),
    );
    // 5 workers x 20 ms: 12 in flight answer in 48 ms, the most that counts as "as fast" (2 x 20 +
    // 10). Slow start overshoots for a round trip or two, then the window comes back.
    const settled = limits.slice(-100);
    expect(Math.max(...settled)).toBeLessThanOrEqual(13);
    expect(Math.min(...settled)).toBeGreaterThanOrEqual(INITIAL_WINDOW);
  });
});
