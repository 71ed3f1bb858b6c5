/**
 * Settling an action in local mode's outbox (the ActionOutbox port, core/ports.ts): local mode's outbox port (the cloud's actions queue plays the same part): an action is written
 * before any provider call and leaves only when every provider finished, so an outage, a crash or
 * a refused request never loses it. A provider that failed permanently (3xx, 4xx other than
 * not-found: a configuration problem, docs/operations.md) is *parked*: kept and counted, but run
 * again only by `pmta-bounce retry`, not by every `process` run.
 */
import type { ActionOutbox } from '../ports.ts';
import type { ActionResult } from './run-action.ts';

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

export { settleAction };
