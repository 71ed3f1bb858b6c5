/**
 * Local mode's outbox port (the cloud's actions queue plays the same part): an action is written
 * before any provider call and leaves only when every provider finished, so an outage, a crash or
 * a refused request never loses it. A provider that failed permanently (3xx, 4xx other than
 * not-found: a configuration problem, docs/operations.md) is *parked*: kept and counted, but run
 * again only by `pmta-bounce retry`, not by every `process` run.
 */
import type { Action } from './action.ts';
import type { ActionResult } from './run-action.ts';

interface ParkedProvider {
  subject: string;
  provider: string;
  /** The provider's answer, e.g. `mw: unexpected redirect (HTTP 301)`. */
  error: string;
  at: number;
}

interface OutboxSelection {
  /** Include parked providers (the `retry` command); default: only those not parked. */
  parked?: boolean;
  /** Only actions owed to this provider, narrowed to it. */
  provider?: string;
}

interface OutboxSummary {
  /** Actions still owed to at least one provider. */
  pending: number;
  /** Of those, actions with at least one parked provider. */
  parkedActions: number;
  /** Per provider: parked actions and the latest error. */
  parked: Array<{ provider: string; actions: number; lastError: string; lastAt: number }>;
}

interface ActionOutbox {
  enqueue(actions: readonly Action[]): void;
  /** Every provider finished: the action leaves the outbox. */
  complete(subject: string): void;
  park(entry: ParkedProvider): void;
  /** Actions owed, each narrowed to the providers not done yet (and not parked, unless asked). */
  pending(selection?: OutboxSelection): Action[];
  summary(): OutboxSummary;
  /** Parked providers of one subject (for `status`). */
  parkedFor(subject: string): ParkedProvider[];
}

/** After a run: complete the action, or park each provider that failed permanently. */
function settleAction(
  result: ActionResult,
  outbox: Pick<ActionOutbox, 'complete' | 'park'>,
  at: number,
): void {
  if (result.complete) {
    outbox.complete(result.action.subject);
    return;
  }
  for (const o of result.outcomes) {
    if (o.outcome !== 'failed' || o.retryable !== false) continue;
    outbox.park({ subject: result.action.subject, provider: o.provider, error: o.error ?? 'failed', at });
  }
}

export type { ActionOutbox, OutboxSelection, OutboxSummary, ParkedProvider };
export { settleAction };
