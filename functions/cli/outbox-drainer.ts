/**
 * The background half of `pmta-bounce serve`: runs what the outbox owes (core/act/action-outbox.ts)
 * one pass at a time, and again after a growing pause while anything is left pending (a provider
 * outage), so an unsubscribe answered with 200 reaches the provider later without anyone running
 * `retry`. Parked actions (a permanent provider error) wait for `retry`, as everywhere else.
 */
import { settleAction } from '#core/act/action-outbox.ts';
import { runAction } from '#core/act/run-action.ts';
import type { ActionOutbox, ListProvider, SuppressionStore } from '#core/ports.ts';

interface OutboxDrainerDeps {
  providers: ReadonlyMap<string, ListProvider>;
  store: SuppressionStore;
  outbox: Pick<ActionOutbox, 'complete' | 'park' | 'pending'>;
  now: () => number;
  log: (line: string) => void;
  /** Pauses between passes while something is pending (ms); the last one repeats. */
  backoffMs?: readonly number[] | undefined;
  concurrency?: number | undefined;
  /** True while requests are arriving: provider work waits (the foreground answers first). */
  busy?: (() => boolean) | undefined;
}

/**
 * Few actions at once: each settles with synchronous SQLite writes on the event loop that also
 * answers requests, so the background must not crowd the foreground (docs/benchmarks.md, "serve").
 */
const DRAIN_CONCURRENCY = 4;
/** The longest one action waits for a quiet moment: a steady stream of requests slows it, never stops it. */
const MAX_DEFER_MS = 5_000;
const DEFAULT_BACKOFF_MS = [2_000, 10_000, 30_000, 120_000, 600_000];

interface OutboxDrainer {
  /** New actions are in the outbox: run a pass now (or right after the running one). */
  kick(): void;
  /** Waits for the running pass and cancels the next; no pass starts afterwards. */
  stop(): Promise<void>;
  /** Resolves when no pass is running or due at once (tests, bench). */
  idle(): Promise<void>;
}

function createOutboxDrainer(deps: OutboxDrainerDeps): OutboxDrainer {
  const backoff = deps.backoffMs ?? DEFAULT_BACKOFF_MS;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  /** Waits while requests are being answered, at most MAX_DEFER_MS per action (never starves). */
  const yieldToForeground = async (): Promise<void> => {
    const until = Date.now() + MAX_DEFER_MS;
    while (deps.busy?.() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  };

  const pass = async (): Promise<void> => {
    const actions = deps.outbox.pending();
    let incomplete = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < actions.length && !stopped) {
        const action = actions[next++]!;
        await yieldToForeground();
        const result = await runAction(action, deps.providers, deps.store, deps.now);
        settleAction(result, deps.outbox, deps.now());
        if (!result.complete) incomplete += 1;
        for (const o of result.outcomes)
          deps.log(`one-click: ${o.provider} ${o.outcome}${o.error ? `: ${o.error}` : ''}`);
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(deps.concurrency ?? DRAIN_CONCURRENCY, actions.length) }, worker),
    );
    failures = incomplete > 0 ? failures + 1 : 0;
  };

  const schedule = (): void => {
    if (stopped || failures === 0 || timer) return;
    const delay = backoff[Math.min(failures, backoff.length) - 1] ?? 60_000;
    timer = setTimeout(() => {
      timer = undefined;
      kick();
    }, delay);
    timer.unref();
  };

  const kick = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        await pass().catch((error: Error) => {
          failures += 1;
          deps.log(`one-click: outbox pass failed: ${error.message}`);
        });
      } while (again && !stopped);
    })().finally(() => {
      running = undefined;
      schedule();
    });
  };

  return {
    kick,
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
    idle: async () => {
      while (running) await running;
    },
  };
}

export type { OutboxDrainer, OutboxDrainerDeps };
export { createOutboxDrainer };
