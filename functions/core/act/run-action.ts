/**
 * Runs one Action against each provider it still has to reach, in parallel; each provider's own
 * limits apply inside the adapter. Records the outcome per provider (audit + state) so a retry
 * only calls the providers that failed.
 */

import { BounceHandlerError, ProviderError } from '../errors.ts';
import type { ActionContext, AuditEntry, ListProvider, ProviderResult, SuppressionStore } from '../ports.ts';
import type { Action } from './action.ts';

interface ProviderOutcome {
  provider: string;
  outcome: 'done' | 'already' | 'not-found' | 'failed';
  calls: number;
  error?: string;
  /** Retrying later may succeed (outage, rate limit, credentials being fixed). */
  retryable?: boolean;
  lists?: ProviderResult['lists'];
  durationMs: number;
}

interface ActionResult {
  action: Action;
  outcomes: ProviderOutcome[];
  /** True when every provider finished (done/already/not-found). */
  complete: boolean;
}

function summarize(result: ProviderResult): ProviderOutcome['outcome'] {
  if (result.lists.some((l) => l.outcome === 'done')) return 'done';
  if (result.lists.some((l) => l.outcome === 'already')) return 'already';
  return 'not-found';
}

async function runAction(
  action: Action,
  providers: ReadonlyMap<string, ListProvider>,
  store: SuppressionStore,
  now: () => number,
): Promise<ActionResult> {
  const context: ActionContext = {
    actionId: action.id,
    kind: action.kind === 'manual' ? 'unsubscribe' : action.kind,
    reason: action.reason,
    ...(action.category ? { category: action.category } : {}),
    ...(action.jobId ? { jobId: action.jobId } : {}),
    ...(action.occurredAt ? { occurredAt: action.occurredAt } : {}),
  };
  const outcomes = await Promise.all(
    action.providers.map(async (id): Promise<ProviderOutcome> => {
      const provider = providers.get(id);
      const started = now();
      if (!provider) {
        return {
          provider: id,
          outcome: 'failed',
          calls: 0,
          error: `provider ${id} is not configured`,
          retryable: true,
          durationMs: 0,
        };
      }
      try {
        const result =
          action.target.type === 'email'
            ? await provider.unsubscribeEverywhere(action.target.address, context)
            : await provider.unsubscribeFromList(action.target.ref, context);
        return {
          provider: id,
          outcome: summarize(result),
          calls: result.calls,
          lists: result.lists,
          durationMs: now() - started,
        };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const retryable = error instanceof BounceHandlerError ? error.retryable : true;
        const calls = error instanceof ProviderError ? 1 : 0;
        return {
          provider: id,
          outcome: 'failed',
          calls,
          error: message,
          retryable,
          durationMs: now() - started,
        };
      }
    }),
  );
  const at = now();
  const audit: AuditEntry[] = outcomes.map((o) => ({
    subject: action.subject,
    at,
    type: 'provider',
    action: 'unsubscribe',
    reason: o.error ?? action.reason,
    provider: o.provider,
    outcome: o.outcome,
    lists: o.lists,
  }));
  await store.appendAudit(audit);
  for (const o of outcomes)
    await store.markProvider(action.subject, o.provider, o.outcome === 'failed' ? 'failed' : 'done');
  return { action, outcomes, complete: outcomes.every((o) => o.outcome !== 'failed') };
}

export type { ActionResult, ProviderOutcome };
export { runAction };
