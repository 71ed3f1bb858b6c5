/**
 * Widening a by-ids action that policy wants applied everywhere (`Action.everywhere`: a complaint
 * whose feedback report hid the recipient, a mailto unsubscribe with `unsubscribeScope:
 * everywhere`). One lookup at a provider of the ids' type turns the ids into the subscriber's
 * address; the action then unsubscribes that address everywhere, at every provider it is routed to
 * (docs/unsubscribe.md). Pure orchestration over the provider port.
 */
import { normalizeAddress } from '../email-address.ts';
import { BounceHandlerError, ProviderError } from '../errors.ts';
import type { SubscriberRef } from '../mail-event.ts';
import type { ListProvider } from '../ports.ts';
import type { Action } from './action.ts';

type WideningPlan =
  /** Not an everywhere by-ids action, or no provider can look the ids up: act as the target says. */
  | { kind: 'as-is' }
  /** The ids belong to this address: unsubscribe it everywhere at every provider. */
  | { kind: 'address'; email: string; via: string; calls: number }
  /** The ids are unknown (or only a masked address is shown): their own list only, nothing widened. */
  | { kind: 'unknown'; via: string; calls: number }
  /** The lookup itself failed: nothing is called, every provider stays pending. */
  | { kind: 'failed'; via: string; calls: number; error: string; retryable: boolean };

/**
 * A provider that can look up ids of this type: a routed one first, else any configured one — a
 * retry narrowed to the providers that failed (the ids' own provider already done) must still
 * resolve, or it would fall back to one list at the others.
 */
function resolverFor(
  ref: SubscriberRef,
  action: Action,
  providers: ReadonlyMap<string, ListProvider>,
): ListProvider | undefined {
  const routed = action.providers.flatMap((id) => providers.get(id) ?? []);
  return [...routed, ...providers.values()].find((p) => p.type === ref.providerType && p.findEmail);
}

async function planWidening(
  action: Action,
  providers: ReadonlyMap<string, ListProvider>,
): Promise<WideningPlan> {
  if (!action.everywhere || action.target.type !== 'ref') return { kind: 'as-is' };
  const resolver = resolverFor(action.target.ref, action, providers);
  if (!resolver?.findEmail) return { kind: 'as-is' };
  const via = resolver.id;
  try {
    const found = await resolver.findEmail(action.target.ref);
    const address = found.email === undefined ? undefined : normalizeAddress(found.email);
    return address?.ok
      ? { kind: 'address', email: address.address, via, calls: found.calls }
      : { kind: 'unknown', via, calls: found.calls };
  } catch (error) {
    return {
      kind: 'failed',
      via,
      calls: error instanceof ProviderError ? 1 : 0,
      error: error instanceof Error ? error.message : String(error),
      retryable: error instanceof BounceHandlerError ? error.retryable : true,
    };
  }
}

/** The audit line that ties the ids to the address (written under both subjects). */
function wideningReason(action: Action, plan: Extract<WideningPlan, { kind: 'address' }>): string {
  return `ids ${action.subject} resolved to ${plan.email} at ${plan.via}: ${action.reason}; unsubscribe everywhere`;
}

export type { WideningPlan };
export { planWidening, wideningReason };
