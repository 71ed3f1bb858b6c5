/**
 * What running one Action at its providers yields (run-action.ts, undo-action.ts): the outcome per
 * provider, the context a provider is told, and how a thrown error becomes a failed outcome.
 */
import { BounceHandlerError, ProviderError } from '../errors.ts';
import type { ActionContext, ProviderResult } from '../ports.ts';
import type { Action } from './action.ts';

interface ProviderOutcome {
  provider: string;
  /** manual: an undo the provider's API cannot do (core/act/undo-action.ts). */
  outcome: 'done' | 'already' | 'not-found' | 'failed' | 'manual';
  calls: number;
  error?: string;
  /** Retrying later may succeed (outage, rate limit, credentials being fixed). */
  retryable?: boolean;
  /** How long the provider asked us to wait before the next try (Retry-After), when it said so. */
  retryAfterMs?: number;
  lists?: ProviderResult['lists'];
  durationMs: number;
}

interface ActionResult {
  action: Action;
  outcomes: ProviderOutcome[];
  /** True when every provider finished (done/already/not-found). */
  complete: boolean;
}

function actionContext(action: Action): ActionContext {
  return {
    actionId: action.id,
    kind: action.kind === 'manual' ? 'unsubscribe' : action.kind,
    reason: action.reason,
    ...(action.category ? { category: action.category } : {}),
    ...(action.rule ? { rule: action.rule } : {}),
    ...(action.bounceType ? { bounceType: action.bounceType } : {}),
    ...(action.jobId ? { jobId: action.jobId } : {}),
    ...(action.occurredAt ? { occurredAt: action.occurredAt } : {}),
  };
}

function failedOutcome(provider: string, error: unknown, durationMs: number): ProviderOutcome {
  return {
    provider,
    outcome: 'failed',
    calls: error instanceof ProviderError ? 1 : 0,
    error: error instanceof Error ? error.message : String(error),
    retryable: error instanceof BounceHandlerError ? error.retryable : true,
    ...(error instanceof ProviderError && error.retryAfterMs !== undefined
      ? { retryAfterMs: error.retryAfterMs }
      : {}),
    durationMs,
  };
}

export type { ActionResult, ProviderOutcome };
export { actionContext, failedOutcome };
