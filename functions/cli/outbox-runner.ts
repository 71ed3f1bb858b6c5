/**
 * Runs actions that are already in the local outbox (core/act/action-outbox.ts) against the
 * providers, a bounded number at a time (each provider still applies its own limits), and settles
 * each one: done → out of the outbox; a permanent provider error → parked for `retry`; anything
 * else stays pending for the next run. Shared by `process`, `unsub` and `retry`.
 */

import type { Action } from '#core/act/action.ts';
import { settleAction } from '#core/act/action-outbox.ts';
import { type ActionResult, runAction } from '#core/act/run-action.ts';
import type { ActionOutbox, ListProvider, SuppressionStore } from '#core/ports.ts';

/** Actions in flight at once; each provider still applies its own concurrency and rate limits. */
const ACTION_CONCURRENCY = 32;

interface OutboxRunnerDeps {
  providers: ReadonlyMap<string, ListProvider>;
  store: SuppressionStore;
  outbox: Pick<ActionOutbox, 'complete' | 'park'>;
  now: () => number;
}

async function runOutboxActions(
  actions: readonly Action[],
  deps: OutboxRunnerDeps,
  onResult: (result: ActionResult) => void,
  concurrency = ACTION_CONCURRENCY,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < actions.length) {
      const action = actions[next++]!;
      const result = await runAction(action, deps.providers, deps.store, deps.now);
      settleAction(result, deps.outbox, deps.now());
      onResult(result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, actions.length) }, worker));
}

/** Of a run's results, those that parked a provider (a permanent error). */
function parkedIn(result: ActionResult): boolean {
  return result.outcomes.some((o) => o.outcome === 'failed' && o.retryable === false);
}

export type { OutboxRunnerDeps };
export { parkedIn, runOutboxActions };
