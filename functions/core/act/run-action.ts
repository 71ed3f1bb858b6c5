/**
 * Runs one Action against each provider it still has to reach, in parallel; each provider's own
 * limits apply inside the adapter. Records the outcome per provider (audit + state) so a retry
 * only calls the providers that failed. A by-ids action flagged `everywhere` is first resolved to
 * the subscriber's address (widen-action.ts) and then runs as an address action.
 */

import type { ActionContext, AuditEntry, ListProvider, ProviderResult, SuppressionStore } from '../ports.ts';
import type { Action } from './action.ts';
import { type ActionResult, actionContext, failedOutcome, type ProviderOutcome } from './action-outcome.ts';
import { runUndoAction } from './undo-action.ts';
import { planWidening, type WideningPlan, wideningReason } from './widen-action.ts';

function summarize(result: ProviderResult): ProviderOutcome['outcome'] {
  if (result.lists.some((l) => l.outcome === 'done')) return 'done';
  if (result.lists.some((l) => l.outcome === 'already')) return 'already';
  return 'not-found';
}

/** One provider's call for this action under the widening plan. */
async function callProvider(
  id: string,
  action: Action,
  plan: WideningPlan,
  deps: { providers: ReadonlyMap<string, ListProvider>; context: ActionContext; now: () => number },
): Promise<ProviderOutcome> {
  const provider = deps.providers.get(id);
  const started = deps.now();
  if (!provider) return failedOutcome(id, `provider ${id} is not configured`, 0);
  const lookupCalls = 'via' in plan && plan.via === id ? plan.calls : 0;
  if (plan.kind === 'failed') {
    const outcome = failedOutcome(id, plan.error, 0);
    return { ...outcome, retryable: plan.retryable, calls: lookupCalls };
  }
  const { target } = action;
  if (plan.kind === 'unknown' && target.type === 'ref' && provider.type !== target.ref.providerType) {
    // Nothing to widen to: these ids mean nothing here and no address is known.
    return { provider: id, outcome: 'not-found', calls: 0, lists: [], durationMs: 0 };
  }
  try {
    const result =
      plan.kind === 'address'
        ? await provider.unsubscribeEverywhere(plan.email, deps.context)
        : target.type === 'email'
          ? await provider.unsubscribeEverywhere(target.address, deps.context)
          : await provider.unsubscribeFromList(target.ref, deps.context);
    const durationMs = deps.now() - started;
    return {
      provider: id,
      outcome: summarize(result),
      calls: result.calls + lookupCalls,
      lists: result.lists,
      durationMs,
    };
  } catch (error) {
    const outcome = failedOutcome(id, error, deps.now() - started);
    return { ...outcome, calls: outcome.calls + lookupCalls };
  }
}

/** Provider outcomes under the action's subject, and, once ids were resolved, under the address too. */
function auditEntries(
  action: Action,
  plan: WideningPlan,
  outcomes: ProviderOutcome[],
  at: number,
): AuditEntry[] {
  const subjects = plan.kind === 'address' ? [action.subject, plan.email] : [action.subject];
  const entries: AuditEntry[] = [];
  for (const subject of subjects) {
    if (plan.kind === 'address')
      entries.push({
        subject,
        at,
        type: 'decision',
        action: 'resolve',
        reason: wideningReason(action, plan),
      });
    for (const o of outcomes)
      entries.push({
        subject,
        at,
        type: 'provider',
        action: 'unsubscribe',
        reason: o.error ?? action.reason,
        provider: o.provider,
        outcome: o.outcome,
        lists: o.lists,
        // Until a provider vouches for unverified ids, what we write about them expires too.
        ...(action.unverifiedUntil === undefined ? {} : { expiresAt: action.unverifiedUntil }),
      });
  }
  return entries;
}

async function runAction(
  action: Action,
  providers: ReadonlyMap<string, ListProvider>,
  store: SuppressionStore,
  now: () => number,
): Promise<ActionResult> {
  if (action.undo) return runUndoAction(action, providers, store, now);
  const plan = await planWidening(action, providers);
  const deps = { providers, context: actionContext(action), now };
  const outcomes = await Promise.all(action.providers.map((id) => callProvider(id, action, plan, deps)));
  await store.appendAudit(auditEntries(action, plan, outcomes, now()));
  const expiresAt = action.unverifiedUntil;
  for (const o of outcomes)
    await store.markProvider(action.subject, o.provider, o.outcome === 'failed' ? 'failed' : 'done');
  if (expiresAt !== undefined && outcomes.some((o) => o.outcome === 'done' || o.outcome === 'already'))
    await store.confirm(action.subject);
  return { action, outcomes, complete: outcomes.every((o) => o.outcome !== 'failed') };
}

export type { ActionResult, ProviderOutcome };
export { runAction };
