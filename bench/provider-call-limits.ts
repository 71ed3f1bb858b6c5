/**
 * The provider call limiter and retry loop (functions/adapters/providers/call-limiter.ts,
 * provider-call-policy.ts) against bottleneck and p-retry, loaded from .scratch/bench-libs (see
 * bench/library-packages.ts). Prints, in one run:
 * - limiting: N calls at a rate limit and a concurrency limit (achieved rate, most starts in any
 *   100 ms and in any second, most calls in flight), and the cost per call with no rate limit;
 * - retrying: a scripted provider answering 503 with Retry-After: 1, then 503, then 200, through
 *   the policy and through p-retry set up like it (same backoff, same error classification): the
 *   waits between attempts; and the policy again on an injected clock, as the tests run it;
 * - the minified bundle size of each.
 *
 *   node --import tsx bench/provider-call-limits.ts [--calls 400] [--rate 200] [--overhead-calls 20000]
 */
import { parseArgs } from 'node:util';
import { ProviderError, ProviderErrorKind } from '#core/errors.ts';
import { createCallLimiter } from '#providers/call-limiter.ts';
import {
  createProviderCallPolicy,
  errorForStatus,
  type ProviderResponse,
} from '#providers/provider-call-policy.ts';
import type { ProviderDeps } from '#providers/provider-definition.ts';
import { LIBS, libraryVersion, loadLibrary, minifiedKb } from './library-packages.ts';

interface BottleneckInstance {
  schedule<T>(fn: () => Promise<T>): Promise<T>;
}
type BottleneckClass = new (options: { maxConcurrent: number; minTime: number }) => BottleneckInstance;
type PRetry = <T>(
  fn: (attempt: number) => Promise<T>,
  options: {
    retries: number;
    factor: number;
    minTimeout: number;
    maxTimeout: number;
    randomize: boolean;
    shouldRetry: (context: { error: Error }) => boolean;
  },
) => Promise<T>;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs `calls` calls of `workMs` through `limit`; what a provider would see. */
async function observe(
  calls: number,
  workMs: number,
  limit: (work: () => Promise<void>) => Promise<void>,
): Promise<{ ms: number; maxInFlight: number; most100ms: number; most1s: number }> {
  let inFlight = 0;
  let maxInFlight = 0;
  const starts: number[] = [];
  const started = performance.now();
  const work = async (): Promise<void> => {
    starts.push(performance.now());
    maxInFlight = Math.max(maxInFlight, ++inFlight);
    if (workMs > 0) await sleep(workMs);
    else await Promise.resolve();
    inFlight--;
  };
  await Promise.all(Array.from({ length: calls }, () => limit(work)));
  return {
    ms: performance.now() - started,
    maxInFlight,
    most100ms: mostStartsWithin(starts, 100),
    most1s: mostStartsWithin(starts, 1000),
  };
}

/** The most starts in any window of `ms` (what a provider's rate limit counts). */
function mostStartsWithin(starts: number[], ms: number): number {
  let most = 0;
  let from = 0;
  for (let to = 0; to < starts.length; to++) {
    while ((starts[to] as number) - (starts[from] as number) >= ms) from++;
    most = Math.max(most, to - from + 1);
  }
  return most;
}

function ownLimit(concurrency: number, rate: number | undefined) {
  const limiter = createCallLimiter({ concurrency, ratePerSecond: rate, now: Date.now, sleep });
  return async (work: () => Promise<void>): Promise<void> => {
    const release = await limiter.acquire();
    try {
      await work();
    } finally {
      release();
    }
  };
}

function bottleneckLimit(Bottleneck: BottleneckClass, concurrency: number, rate: number | undefined) {
  const limiter = new Bottleneck({ maxConcurrent: concurrency, minTime: rate ? 1000 / rate : 0 });
  return (work: () => Promise<void>): Promise<void> => limiter.schedule(work);
}

async function limiting(Bottleneck: BottleneckClass, calls: number, rate: number, overheadCalls: number) {
  const lines: string[] = [];
  const rated = {
    own: await observe(calls, 2, ownLimit(4, rate)),
    bottleneck: await observe(calls, 2, bottleneckLimit(Bottleneck, 4, rate)),
  };
  for (const [name, r] of Object.entries(rated))
    lines.push(
      `  ${name}: ${calls} calls at ${rate}/s, concurrency 4 → ${(calls / (r.ms / 1000)).toFixed(0)} calls/s, most starts in any 100 ms ${r.most100ms} (limit ${rate / 10}), in any second ${r.most1s} (limit ${rate}), at most ${r.maxInFlight} in flight`,
    );
  const free = {
    own: await observe(overheadCalls, 0, ownLimit(8, undefined)),
    bottleneck: await observe(overheadCalls, 0, bottleneckLimit(Bottleneck, 8, undefined)),
  };
  const perCall = (ms: number): number => (ms * 1000) / overheadCalls;
  lines.push(
    `  cost per call (${overheadCalls} calls, no rate limit, concurrency 8): own ${perCall(free.own.ms).toFixed(1)} µs, bottleneck ${perCall(free.bottleneck.ms).toFixed(1)} µs (×${(free.bottleneck.ms / free.own.ms).toFixed(1)}), at most ${free.own.maxInFlight} / ${free.bottleneck.maxInFlight} in flight`,
  );
  return lines;
}

/** 503 with Retry-After: 1, then 503, then 200; records when each attempt started. */
function scriptedFetch(now: () => number): { fetch: typeof fetch; starts: number[] } {
  const answers: Array<{ status: number; headers: Record<string, string> }> = [
    { status: 503, headers: { 'retry-after': '1' } },
    { status: 503, headers: {} },
    { status: 200, headers: {} },
  ];
  const starts: number[] = [];
  const fetchFn = (async () => {
    starts.push(now());
    const a = answers.shift() ?? { status: 200, headers: {} };
    return new Response('ok', { status: a.status, headers: a.headers });
  }) as typeof fetch;
  return { fetch: fetchFn, starts };
}

const gaps = (starts: number[]): string =>
  starts
    .slice(1)
    .map((s, i) => `${Math.round(s - (starts[i] as number))} ms`)
    .join(', ');

const POLICY = { concurrency: 4, ratePerSecond: undefined, timeoutMs: 5000, maxRetries: 3 };

async function ownRetry(clock: 'real' | 'injected'): Promise<string> {
  let fake = 0;
  const now = clock === 'real' ? () => performance.now() : () => fake;
  const scripted = scriptedFetch(now);
  const deps: ProviderDeps = {
    fetch: scripted.fetch,
    now: clock === 'real' ? Date.now : () => fake,
    sleep:
      clock === 'real'
        ? sleep
        : async (ms) => {
            fake += ms;
          },
    random: Math.random,
    log: () => {},
  };
  const policy = createProviderCallPolicy('bench', POLICY, deps);
  const started = performance.now();
  await policy.send({ calls: 0 }, benchRequest, accept);
  return `  policy (${clock} clock): ${scripted.starts.length} attempts, waits ${gaps(scripted.starts)}; ${Math.round(performance.now() - started)} ms of real time`;
}

async function pRetryRetry(pRetry: PRetry): Promise<string> {
  const scripted = scriptedFetch(() => performance.now());
  const started = performance.now();
  await pRetry(
    async () => {
      const response = await scripted.fetch(benchRequest().url);
      return accept({ status: response.status, headers: response.headers, text: await response.text() });
    },
    {
      retries: POLICY.maxRetries,
      factor: 2,
      minTimeout: 250,
      maxTimeout: 30_000,
      randomize: true,
      shouldRetry: ({ error }) =>
        error instanceof ProviderError && error.kind === ProviderErrorKind.transient,
    },
  );
  return `  p-retry (same backoff and classification): ${scripted.starts.length} attempts, waits ${gaps(scripted.starts)}; ${Math.round(performance.now() - started)} ms of real time`;
}

const benchRequest = () => ({ method: 'GET' as const, url: 'http://127.0.0.1:9/x', headers: {} });
const accept = (r: ProviderResponse): string => {
  const error = errorForStatus('bench', r, Date.now());
  if (error) throw error;
  return r.text;
};

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: 'string', default: '400' },
      rate: { type: 'string', default: '200' },
      'overhead-calls': { type: 'string', default: '20000' },
    },
  });
  const Bottleneck = ((await loadLibrary<{ default: BottleneckClass }>('bottleneck')).default ??
    (await loadLibrary<BottleneckClass>('bottleneck'))) as BottleneckClass;
  const pRetry = (await loadLibrary<{ default: PRetry }>('p-retry')).default;
  const lines = [
    `Provider call limits: own limiter and retry loop vs bottleneck ${libraryVersion('bottleneck')} and p-retry ${libraryVersion('p-retry')}, node ${process.version}`,
    'limiting:',
    ...(await limiting(
      Bottleneck,
      Number(values.calls),
      Number(values.rate),
      Number(values['overhead-calls']),
    )),
    'retrying (503 + Retry-After: 1, 503, 200):',
    await ownRetry('real'),
    await pRetryRetry(pRetry),
    await ownRetry('injected'),
    `minified bundle: own limiter + policy ${await minifiedKb("export * from './functions/adapters/providers/provider-call-policy.ts';", process.cwd())}, bottleneck ${await minifiedKb("export { default } from 'bottleneck';", LIBS)}, p-retry ${await minifiedKb("export { default } from 'p-retry';", LIBS)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
