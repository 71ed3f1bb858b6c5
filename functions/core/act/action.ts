/**
 * What must happen to one recipient at the providers. Local mode runs it in-process; in the cloud
 * it is the body of an actions-queue message (JSON), so keep it plain data.
 */
import type { EventKind, SubscriberRef } from '../mail-event.ts';

/** One subscription an undo puts back (core/suppressions/suppression-ledger.ts ChangedList). */
interface RestoreRequest {
  listId: string;
  /** The status before our unsubscribe, when the provider reported it. */
  previousStatus?: string | undefined;
}

type ActionTarget = { type: 'email'; address: string } | { type: 'ref'; ref: SubscriberRef };

interface Action {
  v: 1;
  /** Stable across retries and replays: the suppression subject. */
  id: string;
  /** The suppression subject: the address, or `ref:<type>:<list>:<subscriber>`. */
  subject: string;
  target: ActionTarget;
  kind: EventKind;
  reason: string;
  category?: string | undefined;
  /** Bounces: the classification rule id and whether the category is hard or soft (counted). */
  rule?: string | undefined;
  bounceType?: 'hard' | 'soft' | undefined;
  jobId?: string | undefined;
  /** When PowerMTA logged the record (ms): end-to-end latency is measured from here. */
  occurredAt?: number | undefined;
  /** Provider ids this action still has to reach. */
  providers: string[];
  /**
   * A by-ids (ref) action that policy wants applied everywhere (mailto unsubscribe with
   * `policy.unsubscribeScope: everywhere`): an adapter that can resolve the ids to an email may
   * widen it; others act on the one list. Absent = as the target says.
   */
  everywhere?: boolean | undefined;
  /**
   * ms since epoch: the ids came from an unauthenticated source (a mailto unsubscribe) and the
   * suppression stays provisional until then; a provider answering done or already confirms the
   * subscription exists (SuppressionStore.confirm). Absent = nothing to confirm.
   */
  unverifiedUntil?: number | undefined;
  /**
   * ms since epoch: when the person asked to unsubscribe (one-click POST, mailto mail). The 48-hour
   * promise of docs/unsubscribe.md is measured from here. Absent = not an unsubscribe request.
   */
  requestedAt?: number | undefined;
  /**
   * Present: this action reverses an earlier suppression (`pmta-bounce undo`, core/act/undo-action.ts)
   * instead of unsubscribing: per provider id, the subscriptions to put back.
   */
  undo?: { lists: Record<string, RestoreRequest[]> } | undefined;
}

/**
 * Where act claims an action and keeps the providers it finished (ActionClaims.claimReading): an
 * unsubscribe on its subject's suppression (undefined), an undo on a slot of its own, named by its
 * id — the undo forgets that suppression, and a later undo must not find this one's done set.
 */
function claimSlot(action: Action): string | undefined {
  return action.undo ? `undo#${action.id}` : undefined;
}

function refSubject(ref: SubscriberRef): string {
  return `ref:${ref.providerType}:${ref.listId}:${ref.subscriberId}`;
}

export type { Action, ActionTarget, RestoreRequest };
export { claimSlot, refSubject };
