/**
 * The background half of `pmta-bounce serve`: runs what the outbox owes (core/act/action-outbox.ts)
 * one pass at a time, and again after a growing pause while anything is left pending (a provider
 * outage), so an unsubscribe answered with 200 reaches the provider later without anyone running
 * `retry`. Parked actions (a permanent provider error) wait for `retry`, as everywhere else.
 */
import type { ActionOutbox } from '#core/act/action-outbox.ts';
import type { ListProvider } from '#core/list-provider.ts';
import type { SuppressionStore } from '#core/suppression-store.ts';
import { runOutboxActions } from './outbox-runner.ts';

interface OutboxDrainerDeps {
  providers: ReadonlyMap<string, ListProvider>;
  store: SuppressionStore;
  outbox: Pick<ActionOutbox, 'complete' | 'park' | 'pending'>;
  now: () => number;
  log: (line: string) => void;
  /** Pauses between passes while something is pending (ms); the last one repeats. */
  backoffMs?: readonly number[] | undefined;
}

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

  const pass = async (): Promise<void> => {
    const actions = deps.outbox.pending();
    let incomplete = 0;
    await runOutboxActions(actions, deps, (result) => {
      if (!result.complete) incomplete += 1;
      for (const o of result.outcomes)
        deps.log(`one-click: ${o.provider} ${o.outcome}${o.error ? `: ${o.error}` : ''}`);
    });
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
