/**
 * Runs an undo action (Action.undo, written by `pmta-bounce undo`): each provider puts back the
 * subscriptions this product changed, through its optional `resubscribe`; a provider without one
 * lists every subscription as manual. Audited as `resubscribe` provider entries; a failure keeps
 * the action in the outbox (or on the actions queue) to be retried like any other.
 */
import type { AuditEntry, ListProvider, ProviderResult, SuppressionStore } from '../ports.ts';
import type { Action } from './action.ts';
import { type ActionResult, actionContext, failedOutcome, type ProviderOutcome } from './action-outcome.ts';

/** done if anything was put back, else manual if anything must be done by hand, else already/not-found. */
function summarize(result: ProviderResult): ProviderOutcome['outcome'] {
  for (const outcome of ['done', 'manual', 'already'] as const)
    if (result.lists.some((l) => l.outcome === outcome)) return outcome;
  return 'not-found';
}

async function restoreAt(
  id: string,
  action: Action,
  providers: ReadonlyMap<string, ListProvider>,
  now: () => number,
): Promise<ProviderOutcome> {
  const provider = providers.get(id);
  const lists = action.undo?.lists[id] ?? [];
  const started = now();
  if (!provider) return failedOutcome(id, `provider ${id} is not configured`, 0);
  if (action.target.type !== 'email' || !provider.resubscribe) {
    const manual = lists.map((l) => ({ listId: l.listId, outcome: 'manual' as const }));
    return { provider: id, outcome: 'manual', calls: 0, lists: manual, durationMs: 0 };
  }
  try {
    const result = await provider.resubscribe(action.target.address, lists, actionContext(action));
    return {
      provider: id,
      outcome: summarize(result),
      calls: result.calls,
      lists: result.lists,
      durationMs: now() - started,
    };
  } catch (error) {
    return failedOutcome(id, error, now() - started);
  }
}

async function runUndoAction(
  action: Action,
  providers: ReadonlyMap<string, ListProvider>,
  store: SuppressionStore,
  now: () => number,
): Promise<ActionResult> {
  const outcomes = await Promise.all(action.providers.map((id) => restoreAt(id, action, providers, now)));
  const at = now();
  const audit: AuditEntry[] = outcomes.map((o) => ({
    subject: action.subject,
    at,
    type: 'provider',
    action: 'resubscribe',
    reason: o.error ?? action.reason,
    provider: o.provider,
    outcome: o.outcome,
    lists: o.lists,
  }));
  await store.appendAudit(audit);
  return { action, outcomes, complete: outcomes.every((o) => o.outcome !== 'failed') };
}

export { runUndoAction };
