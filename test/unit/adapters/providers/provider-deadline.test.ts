/**
 * Timeouts include waiting: with a deadline (the act function's Lambda time left, less a margin),
 * no Retry-After, backoff or slot wait is started that would pass it. The call fails as transient
 * instead, carrying the provider's Retry-After, and act redelivers the message after that delay.
 */
import { describe, expect, it } from 'vitest';
import { ProviderError, ProviderErrorKind } from '#core/errors.ts';
import { createCallLimiter, SlotWaitExpiredError } from '#providers/call-limiter.ts';
import {
  type CallTally,
  createProviderCallPolicy,
  errorForStatus,
  type ProviderResponse,
} from '#providers/provider-call-policy.ts';
import type { ProviderDeps } from '#providers/provider-definition.ts';

const NOW = Date.parse('2026-11-02T10:00:00Z');

/** Scripted answers; the clock moves by sleeps only; `deadlineAt` as the act wiring sets it. */
function deadlineDeps(
  answers: Array<{ status: number; retryAfter?: string }>,
  deadlineInMs: number | undefined,
) {
  let clock = NOW;
  const sleeps: number[] = [];
  let calls = 0;
  const deps: ProviderDeps = {
    fetch: (async () => {
      calls += 1;
      const a = answers.shift() ?? { status: 200 };
      return new Response('', {
        status: a.status,
        headers: a.retryAfter ? { 'retry-after': a.retryAfter } : {},
      });
    }) as typeof fetch,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    log: () => {},
    ...(deadlineInMs === undefined ? {} : { deadlineAt: () => NOW + deadlineInMs }),
  };
  return { deps, sleeps, calls: () => calls };
}

const CONFIG = { concurrency: 2, timeoutMs: 1000, maxRetries: 3 };
const request = () => ({ method: 'POST' as const, url: 'https://api.example.test/x', headers: {} });
const accept = (r: ProviderResponse) => {
  const e = errorForStatus('p', r, NOW);
  if (e) throw e;
  return 'ok';
};

describe('provider calls against a deadline', () => {
  it.each([
    {
      case: 'no deadline: Retry-After 30 s is slept through',
      deadline: undefined,
      sleeps: [30_000],
      ok: true,
    },
    { case: 'deadline in 60 s: Retry-After 30 s fits', deadline: 60_000, sleeps: [30_000], ok: true },
    { case: 'deadline in 20 s: Retry-After 30 s is handed back', deadline: 20_000, sleeps: [], ok: false },
    {
      case: 'deadline in 30.5 s: the wait fits, the call after it does not',
      deadline: 30_500,
      sleeps: [],
      ok: false,
    },
  ])('$case', async ({ deadline, sleeps, ok }) => {
    const d = deadlineDeps([{ status: 429, retryAfter: '30' }, { status: 200 }], deadline);
    const tally: CallTally = { calls: 0 };
    const out = await createProviderCallPolicy('p', CONFIG, d.deps)
      .send(tally, request, accept)
      .catch((e: unknown) => e);
    expect(d.sleeps).toEqual(sleeps);
    if (ok) {
      expect(out).toBe('ok');
      return;
    }
    expect(out).toBeInstanceOf(ProviderError);
    expect(out).toMatchObject({ kind: ProviderErrorKind.transient, retryable: true, retryAfterMs: 30_000 });
    expect(d.calls()).toBe(1);
  });

  it('does not start a call that could not finish before the deadline', async () => {
    const d = deadlineDeps([], 500); // less than timeoutMs left
    const out = await createProviderCallPolicy('p', CONFIG, d.deps)
      .send({ calls: 0 }, request, accept)
      .catch((e: unknown) => e);
    expect(out).toMatchObject({
      kind: ProviderErrorKind.transient,
      message: expect.stringMatching(/no time left/),
    });
    expect(d.calls()).toBe(0);
  });
});

describe('call limiter against a deadline', () => {
  const clock = { now: () => Date.now(), sleep: (ms: number) => new Promise<void>((r) => setTimeout(r, ms)) };

  it('gives up waiting for a slot at the latest start, and the slot stays usable', async () => {
    const limiter = createCallLimiter({ concurrency: 1, ...clock });
    const release = await limiter.acquire();
    const started = Date.now();
    await expect(limiter.acquire(Date.now() + 50)).rejects.toBeInstanceOf(SlotWaitExpiredError);
    expect(Date.now() - started).toBeLessThan(1000);
    release();
    // The expired waiter left the line: the next caller gets the slot at once.
    const again = await limiter.acquire(Date.now() + 50);
    again();
  });

  it('hands the slot over when it frees in time', async () => {
    const limiter = createCallLimiter({ concurrency: 1, ...clock });
    const release = await limiter.acquire();
    setTimeout(release, 20);
    const next = await limiter.acquire(Date.now() + 2000);
    next();
  });

  it('refuses a rate token that would start after the latest start', async () => {
    const limiter = createCallLimiter({ concurrency: 10, ratePerSecond: 1, ...clock });
    (await limiter.acquire())(); // the next start is 1 s away
    await expect(limiter.acquire(Date.now() + 100)).rejects.toThrow(/rate-limit token/);
    // The refused token was not taken: a caller without a deadline still starts 1 s after the first.
    const started = Date.now();
    (await limiter.acquire())();
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
