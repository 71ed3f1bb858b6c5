/**
 * The act function's logic: per actions-queue message, claim the action (one run per subject at a
 * time), skip the providers the suppression state already has done (replays and duplicates cost no
 * call), run the rest (core runAction: audit + state per provider), then complete or release the
 * claim. Any failure, a permanent one (3xx, 4xx but not-found) included, pushes the message's next
 * delivery back (exponential backoff by receive count) and reports it failed: it is never
 * acknowledged away; after maxReceiveCount the queue parks it in the actions DLQ. A permanent
 * error, or the last receive before the DLQ, becomes a postmaster notice (when `notify` is set).
 */
import { createHash } from 'node:crypto';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { z } from 'zod';
import { type Action, claimSlot } from '#core/act/action.ts';
import { mapLimit } from '#core/act/map-limit.ts';
import { type ActionResult, type ProviderOutcome, runAction } from '#core/act/run-action.ts';
import { BounceHandlerError } from '#core/errors.ts';
import { failedActionNotice } from '#core/notify/postmaster-notices.ts';
import type {
  ActionClaims,
  Clock,
  ListProvider,
  Log,
  MetricSink,
  PostmasterNotice,
  ProviderMark,
  SuppressionStore,
  VisibilityControl,
} from '#core/ports.ts';
import { DIMENSIONS, METRICS } from '../metric-names.ts';

interface ActDeps {
  providers: ReadonlyMap<string, ListProvider>;
  store: SuppressionStore & { providersDone(subject: string): Promise<string[]> };
  claims: ActionClaims;
  visibility: VisibilityControl;
  metrics: MetricSink;
  log: Log;
  now: Clock;
  /** Messages run in parallel; each provider's own concurrency limit applies inside it. */
  concurrency?: number;
  /** Delay before the next delivery after a retryable failure: base × 2^(receives-1), capped. */
  backoff?: { baseSeconds: number; maxSeconds: number };
  /** The queue's redrive maxReceiveCount: a failure on this receive is the last before the DLQ. */
  maxReceiveCount?: number | undefined;
  /** Records postmaster notices for the digest; undefined when `notify` is not configured. */
  notices?: ((notices: PostmasterNotice[]) => Promise<void>) | undefined;
}

const ActOutcome = {
  done: 'done',
  /** Every routed provider had already finished: a duplicate or a replay. */
  duplicate: 'duplicate',
  /** No longer produced for provider failures (they return to the queue); kept for the contract. */
  failed: 'failed',
  malformed: 'malformed',
  /** An unsubscribe for a suppression an operator's undo forgot: obsolete, no provider called. */
  forgotten: 'forgotten',
} as const;
type ActOutcome = (typeof ActOutcome)[keyof typeof ActOutcome];

interface ActSummary {
  actionId: string | undefined;
  outcome: ActOutcome;
}

/** A failure that returns the message to the queue (a batchItemFailure). */
class RetryLaterError extends BounceHandlerError {
  constructor(message: string) {
    super(message, true);
    this.name = 'RetryLaterError';
  }
}

const refSchema = z.object({
  providerType: z.string(),
  listId: z.string(),
  subscriberId: z.string(),
  campaignId: z.string().optional(),
});
const actionSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1),
  subject: z.string().min(1),
  target: z.union([
    z.object({ type: z.literal('email'), address: z.string().min(3) }),
    z.object({ type: z.literal('ref'), ref: refSchema }),
  ]),
  kind: z.enum(['bounce', 'complaint', 'manual', 'unsubscribe']),
  reason: z.string(),
  category: z.string().optional(),
  rule: z.string().optional(),
  bounceType: z.enum(['hard', 'soft']).optional(),
  jobId: z.string().optional(),
  occurredAt: z.number().optional(),
  providers: z.array(z.string()),
  // Without these zod would strip them: a by-ids action would never be widened, and unverified
  // mailto ids would stay forever (docs/security.md).
  everywhere: z.boolean().optional(),
  unverifiedUntil: z.number().optional(),
  requestedAt: z.number().optional(),
  // An undo action (`pmta-bounce undo --table`): without it, it would run as an unsubscribe.
  undo: z
    .object({
      lists: z.record(
        z.string(),
        z.array(z.object({ listId: z.string(), previousStatus: z.string().optional() })),
      ),
    })
    .optional(),
});

const DEFAULT_BACKOFF = { baseSeconds: 30, maxSeconds: 900 };
/** SQS's longest visibility timeout: 12 hours. */
const MAX_DELAY_SECONDS = 43_200;

function backoffSeconds(receiveCount: number, backoff: { baseSeconds: number; maxSeconds: number }): number {
  const n = Math.max(1, receiveCount);
  return Math.min(backoff.maxSeconds, backoff.baseSeconds * 2 ** (n - 1));
}

function recordMetrics(result: ActionResult, deps: ActDeps): void {
  const answeredAt = deps.now();
  const { kind, requestedAt } = result.action;
  // The 48-hour promise (docs/unsubscribe.md, "Within 48 hours"): how long this request has waited.
  if (!result.complete && kind === 'unsubscribe' && requestedAt !== undefined)
    deps.metrics.timing(METRICS.pendingUnsubscribeAge, {}, Math.max(0, answeredAt - requestedAt));
  for (const o of result.outcomes) {
    const provider = { [DIMENSIONS.provider]: o.provider };
    if (o.calls > 0) deps.metrics.count(METRICS.providerCalls, provider, o.calls);
    deps.metrics.count(METRICS.providerOutcomes, { ...provider, [DIMENSIONS.outcome]: o.outcome });
    deps.metrics.timing(METRICS.providerLatency, provider, o.durationMs);
    if (o.outcome !== 'failed' && result.action.occurredAt !== undefined) {
      deps.metrics.timing(METRICS.endToEndLatency, {}, Math.max(0, answeredAt - result.action.occurredAt));
    }
  }
}

/** The store as runAction sees it, except that provider outcomes are collected, not written. */
function deferMarks(store: SuppressionStore, marks: ProviderMark[]): SuppressionStore {
  return new Proxy(store, {
    get(target, property) {
      if (property === 'markProvider')
        return async (_subject: string, provider: string, outcome: 'done' | 'failed') => {
          marks.push({ provider, outcome });
        };
      const value = Reflect.get(target, property, target);
      // Bound to the real store: its methods use private fields.
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Failed outcomes that will not be retried: permanent ones, or all of them on the last receive. */
function finalFailures(
  failed: readonly ProviderOutcome[],
  receives: number,
  deps: ActDeps,
): ProviderOutcome[] {
  const lastReceive = deps.maxReceiveCount !== undefined && receives >= deps.maxReceiveCount;
  return failed.filter((o) => o.retryable === false || lastReceive);
}

/** The action in the message, or undefined (logged, counted) when the body is not one. */
function parseActionMessage(record: SQSRecord, deps: ActDeps): Action | undefined {
  try {
    return actionSchema.parse(JSON.parse(record.body)) as Action;
  } catch (error) {
    // Not retryable: the body will not change. Logged (no secrets in actions) and acknowledged.
    deps.log.error('malformed action message dropped', {
      messageId: record.messageId,
      error: error instanceof Error ? error.message.slice(0, 300) : String(error),
      body: record.body.slice(0, 500),
    });
    deps.metrics.count(METRICS.actionsFailed, { [DIMENSIONS.provider]: 'none' });
    return undefined;
  }
}

/** Hands the message back: the next delivery waits the backoff, or longer if a provider asked to. */
async function retryLater(
  record: SQSRecord,
  receives: number,
  deps: ActDeps,
  why: string,
  retryAfterMs = 0,
): Promise<never> {
  const seconds = Math.max(
    backoffSeconds(receives, deps.backoff ?? DEFAULT_BACKOFF),
    Math.ceil(retryAfterMs / 1000),
  );
  await deps.visibility.delay(
    record.eventSourceARN,
    record.receiptHandle,
    Math.min(MAX_DELAY_SECONDS, seconds),
  );
  throw new RetryLaterError(why);
}

/**
 * One token per delivery, not per message: SQS may deliver the same message (same messageId)
 * twice at once, and both copies must not hold the claim. Each receive has its own receipt
 * handle; a redelivery after a crash waits for the old claim's expiry, as intended.
 */
function deliveryToken(record: SQSRecord): string {
  return createHash('sha256')
    .update(record.receiptHandle || record.messageId)
    .digest('base64url')
    .slice(0, 32);
}

type Claim = { claimed: true; done?: readonly string[] } | { claimed: false; forgotten?: true };

/** Claims the action; `claimed: false` when another invocation holds it or it is forgotten. */
async function claimAction(action: Action, token: string, deps: ActDeps): Promise<Claim> {
  // The DynamoDB claims read the providers done with the claim write; other ports read after it.
  if (deps.claims.claimReading) {
    const c = await deps.claims.claimReading(action.subject, token, deps.now(), claimSlot(action));
    if (c.claim === 'claimed') return { claimed: true, done: c.done };
    return c.claim === 'forgotten' ? { claimed: false, forgotten: true } : { claimed: false };
  }
  const claim = await deps.claims.claim(action.id, token, action.providers, deps.now());
  return { claimed: claim === 'claimed' };
}

/** Providers already done: an undo's own done set comes with its claim (no other port keeps one). */
async function providersFinished(action: Action, claim: Claim, deps: ActDeps): Promise<Set<string>> {
  if (claim.claimed && claim.done) return new Set(claim.done);
  return new Set(action.undo ? [] : await deps.store.providersDone(action.subject));
}

/** Ends the claim: on its slot when the port records outcomes (`finish`), else by action id. */
function claimEnder(action: Action, token: string, deps: ActDeps) {
  const finish = deps.claims.finish?.bind(deps.claims);
  const slot = claimSlot(action);
  return {
    finish: finish && ((marks: ProviderMark[]) => finish(action.subject, token, marks, slot)),
    complete: () =>
      finish ? finish(action.subject, token, [], slot) : deps.claims.complete(action.id, token, deps.now()),
    release: () => (finish ? finish(action.subject, token, [], slot) : deps.claims.release(action.id, token)),
  };
}

async function runActionMessage(record: SQSRecord, deps: ActDeps): Promise<ActSummary> {
  const action = parseActionMessage(record, deps);
  if (!action) return { actionId: undefined, outcome: ActOutcome.malformed };
  const receives = Number(record.attributes?.ApproximateReceiveCount ?? '1');
  const token = deliveryToken(record);
  const claim = await claimAction(action, token, deps);
  if (!claim.claimed && claim.forgotten) {
    deps.log.info('action for a forgotten suppression dropped', { actionId: action.id });
    return { actionId: action.id, outcome: ActOutcome.forgotten };
  }
  if (!claim.claimed)
    return retryLater(record, receives, deps, `action ${action.id} is being run by another invocation`);
  // With `finish`, the provider outcomes are written together with dropping the claim.
  const marks: ProviderMark[] = [];
  const end = claimEnder(action, token, deps);
  const store = end.finish ? deferMarks(deps.store, marks) : deps.store;
  let result: ActionResult;
  try {
    const finished = await providersFinished(action, claim, deps);
    const pending = action.providers.filter((p) => !finished.has(p));
    if (pending.length === 0) {
      await end.complete();
      return { actionId: action.id, outcome: ActOutcome.duplicate };
    }
    result = await runAction({ ...action, providers: pending }, deps.providers, store, deps.now);
  } catch (error) {
    await end.release();
    throw error;
  }
  // An undo records no provider state of the subject (it was forgotten): its outcomes go to its slot.
  if (action.undo) marks.push(...result.outcomes.map(markOf));
  if (end.finish) await end.finish(marks);
  recordMetrics(result, deps);
  if (result.complete) {
    if (!end.finish) await end.complete();
    return { actionId: action.id, outcome: ActOutcome.done };
  }
  if (!end.finish) await end.release();
  return handBackFailures(record, receives, action, result, deps);
}

function markOf(o: ProviderOutcome): ProviderMark {
  return { provider: o.provider, outcome: o.outcome === 'failed' ? 'failed' : 'done' };
}

/** Notices for failures that will not be retried, the failure metrics, then back to the queue. */
async function handBackFailures(
  record: SQSRecord,
  receives: number,
  action: Action,
  result: ActionResult,
  deps: ActDeps,
): Promise<never> {
  const failed = result.outcomes.filter((o) => o.outcome === 'failed');
  const summary = failed.map((o) => `${o.provider}: ${o.error ?? 'failed'}`).join('; ');
  const final = finalFailures(failed, receives, deps);
  if (deps.notices && final.length > 0) {
    // Before the message is acknowledged or handed back: if this write fails the message returns.
    // Timed by the message's SentTimestamp, the same on every delivery of it: a redelivered
    // message lands on the same notice item instead of adding one.
    const sentAt = Number(record.attributes?.SentTimestamp);
    const at = sentAt > 0 ? sentAt : deps.now();
    await deps.notices(final.map((o) => failedActionNotice(action, o, at)));
  }
  recordFailures(failed, receives, deps);
  deps.log.warn('provider call failed; retrying later', { actionId: action.id, receives, failures: summary });
  return retryLater(record, receives, deps, summary, Math.max(0, ...failed.map((o) => o.retryAfterMs ?? 0)));
}

/**
 * A failed provider is never acknowledged away, a permanent error (3xx, 4xx other than not-found:
 * a misconfigured URL or request) included: it is backed off like an outage, so a fixed and
 * redeployed configuration still delivers it, and after maxReceiveCount the queue's redrive policy
 * parks it in the actions DLQ, from where the documented redrive brings it back
 * (docs/operations.md). Permanent errors are counted at once, for their own alarm.
 */
function recordFailures(failed: readonly ProviderOutcome[], receives: number, deps: ActDeps): void {
  const lastReceive = deps.maxReceiveCount !== undefined && receives >= deps.maxReceiveCount;
  for (const o of failed) {
    const provider = { [DIMENSIONS.provider]: o.provider };
    if (o.retryable === false) deps.metrics.count(METRICS.providerPermanentErrors, provider);
    if (lastReceive) deps.metrics.count(METRICS.actionsFailed, provider);
  }
}

async function runActionsBatch(
  event: SQSEvent,
  deps: ActDeps,
): Promise<Array<PromiseSettledResult<ActSummary>>> {
  try {
    return await mapLimit(event.Records, deps.concurrency ?? 10, async (record) => {
      try {
        return { status: 'fulfilled', value: await runActionMessage(record, deps) } as const;
      } catch (error) {
        if (!(error instanceof RetryLaterError)) {
          deps.log.error('action message failed; it returns to the queue', {
            messageId: record.messageId,
            error: error instanceof Error ? error.message : String(error),
          });
        }
        return { status: 'rejected', reason: error } as const;
      }
    });
  } finally {
    deps.metrics.flush();
  }
}

export type { ActDeps, ActSummary };
export { ActOutcome, actionSchema, backoffSeconds, RetryLaterError, runActionMessage, runActionsBatch };
