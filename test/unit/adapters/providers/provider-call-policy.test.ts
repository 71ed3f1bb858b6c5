import { describe, expect, it } from 'vitest';
import { ProviderError } from '#core/errors.ts';
import {
  type CallTally,
  createProviderCallPolicy,
  errorForStatus,
  type ProviderResponse,
} from '#providers/provider-call-policy.ts';
import type { ProviderDeps } from '#providers/provider-definition.ts';
import { parseRetryAfter } from '#providers/retry-after.ts';

const NOW = Date.parse('2026-11-02T10:00:00Z');

/** A scripted fetch: answers in order, no network; the clock moves only by sleeps. */
function stubDeps(
  answers: Array<{ status: number; headers?: Record<string, string>; body?: string }>,
  random = 0.5,
) {
  let clock = NOW;
  const sleeps: number[] = [];
  const starts: number[] = [];
  const deps: ProviderDeps = {
    fetch: (async () => {
      starts.push(clock);
      const a = answers.shift() ?? { status: 200 };
      return new Response(a.body ?? '', { status: a.status, headers: a.headers ?? {} });
    }) as typeof fetch,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    random: () => random,
    log: () => {},
  };
  return { deps, sleeps, starts };
}

const BASE = { concurrency: 4, timeoutMs: 1000, maxRetries: 3 };
const request = () => ({ method: 'GET' as const, url: 'https://api.example.test/x?key=fake', headers: {} });
const accept = (r: ProviderResponse) => {
  const e = errorForStatus('p', r, NOW);
  if (e) throw e;
  return r.text;
};

describe('parseRetryAfter', () => {
  it.each([
    { value: '3', expected: 3000 },
    { value: ' 0 ', expected: 0 },
    { value: 'Mon, 02 Nov 2026 10:00:30 GMT', expected: 30_000 },
    { value: 'Mon, 02 Nov 2026 09:00:00 GMT', expected: 0 },
    { value: '1.5', expected: undefined },
    { value: 'soon', expected: undefined },
    { value: '', expected: undefined },
    { value: null, expected: undefined },
  ])('$value → $expected ms', ({ value, expected }) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });
});

describe('provider call policy', () => {
  it.each([
    { status: 400, kind: 'permanent' },
    { status: 404, kind: 'permanent' },
    { status: 401, kind: 'auth' },
    { status: 403, kind: 'auth' },
    { status: 302, kind: 'permanent' },
  ])('does not retry HTTP $status ($kind)', async ({ status, kind }) => {
    const { deps, starts } = stubDeps([{ status }]);
    const tally: CallTally = { calls: 0 };
    const error = await createProviderCallPolicy('p', BASE, deps)
      .send(tally, request, accept)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe(kind);
    expect(starts).toHaveLength(1);
    expect(tally.calls).toBe(1);
  });

  it.each([
    { status: 500 },
    { status: 502 },
    { status: 503 },
    { status: 504 },
    { status: 429 },
    { status: 408 },
  ])('retries HTTP $status and counts every attempt', async ({ status }) => {
    const { deps } = stubDeps([
      { status },
      { status, headers: { 'retry-after': '1' } },
      { status: 200, body: 'ok' },
    ]);
    const tally: CallTally = { calls: 0 };
    await expect(createProviderCallPolicy('p', BASE, deps).send(tally, request, accept)).resolves.toBe('ok');
    expect(tally.calls).toBe(3);
  });

  it('backs off exponentially with jitter between half and all of each step', async () => {
    for (const [random, expected] of [
      [0, [125, 250, 500]],
      [0.999999, [250, 500, 1000]],
    ] as const) {
      const { deps, sleeps } = stubDeps(
        [{ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 }],
        random,
      );
      await createProviderCallPolicy('p', BASE, deps)
        .send({ calls: 0 }, request, accept)
        .catch(() => {});
      expect(sleeps.map(Math.round)).toEqual(expected);
    }
  });

  it('waits at least Retry-After (seconds or HTTP-date)', async () => {
    const { deps, sleeps } = stubDeps([
      { status: 429, headers: { 'retry-after': '7' } },
      { status: 503, headers: { 'retry-after': 'Mon, 02 Nov 2026 10:00:20 GMT' } },
      { status: 200 },
    ]);
    const acceptNow = (r: ProviderResponse) => {
      const e = errorForStatus('p', r, deps.now());
      if (e) throw e;
      return r.text;
    };
    await createProviderCallPolicy('p', BASE, deps).send({ calls: 0 }, request, acceptNow);
    // 7 s, then the date is 20 s after NOW and 7 s have passed on the stub clock: 13 s.
    expect(sleeps).toEqual([7000, 13_000]);
  });

  it('does not sleep through a very long Retry-After: the action stays pending', async () => {
    const { deps, sleeps } = stubDeps([{ status: 429, headers: { 'retry-after': '3600' } }]);
    const error = (await createProviderCallPolicy('p', BASE, deps)
      .send({ calls: 0 }, request, accept)
      .catch((e: unknown) => e)) as ProviderError;
    expect(error.kind).toBe('transient');
    expect(error.retryAfterMs).toBe(3_600_000);
    expect(sleeps).toEqual([]);
  });

  it('spaces sequential request starts to honour ratePerSecond', async () => {
    const { deps, starts } = stubDeps([]);
    const policy = createProviderCallPolicy('p', { ...BASE, ratePerSecond: 4 }, deps);
    for (let i = 0; i < 4; i += 1) await policy.send({ calls: 0 }, request, accept);
    expect(starts.map((t) => t - NOW)).toEqual([0, 250, 500, 750]);
  });

  it('spreads a concurrent burst over time instead of sending it at once', async () => {
    const { deps } = stubDeps([]);
    const waits: number[] = [];
    // A clock that stands still: each caller's wait shows its place in the schedule.
    const frozen = { ...deps, sleep: async (ms: number) => void waits.push(ms) };
    const policy = createProviderCallPolicy('p', { ...BASE, ratePerSecond: 4 }, frozen);
    await Promise.all(Array.from({ length: 4 }, () => policy.send({ calls: 0 }, request, accept)));
    expect(waits).toEqual([250, 500, 750]);
  });

  it('asks whether a lost attempt took effect before resending a non-idempotent call', async () => {
    const { deps, starts } = stubDeps([{ status: 503 }]);
    let checks = 0;
    const result = await createProviderCallPolicy('p', BASE, deps).send({ calls: 0 }, request, accept, {
      alreadyApplied: async () => {
        checks += 1;
        return 'applied-earlier';
      },
    });
    expect(result).toBe('applied-earlier');
    expect(checks).toBe(1);
    expect(starts).toHaveLength(1);
  });

  it('turns an unreadable answer into a transient error without echoing it', async () => {
    const { deps } = stubDeps([
      { status: 200, body: '<html>key=fake</html>' },
      { status: 200, body: '<html>key=fake</html>' },
    ]);
    const error = (await createProviderCallPolicy('p', { ...BASE, maxRetries: 1 }, deps)
      .send({ calls: 0 }, request, (r) => JSON.parse(r.text))
      .catch((e: unknown) => e)) as ProviderError;
    expect(error.kind).toBe('transient');
    expect(error.message).not.toContain('key=fake');
  });
});
