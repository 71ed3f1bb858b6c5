/**
 * A by-ids action flagged `everywhere` (a complaint whose FBL hid the recipient; a mailto
 * unsubscribe with `unsubscribeScope: everywhere`): the act side looks the subscriber's address up
 * at a provider of the ids' type (one lookup) and unsubscribes that address everywhere, at every
 * provider the action is routed to, recording both the ids and the address (issue 11 item 2).
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '#core/act/action.ts';
import { runAction } from '#core/act/run-action.ts';
import type { SubscriberRef } from '#core/mail-event.ts';
import { MemoryListProvider } from '#test/support/memory-list-provider.ts';
import { MemorySuppressionStore } from '#test/support/memory-suppression-store.ts';

const NOW = 1_764_000_000_000;

function setup() {
  const mw = new MemoryListProvider({ id: 'mw', type: 'mailwizz' });
  const iem = new MemoryListProvider({ id: 'iem', type: 'interspire' });
  const ref = mw.addSubscriber('news', 'alice@example.com');
  const deals = mw.addSubscriber('deals', 'alice@example.com');
  const other = iem.addSubscriber('7', 'alice@example.com');
  const store = new MemorySuppressionStore();
  const providers = new Map([
    ['mw', mw],
    ['iem', iem],
  ]);
  return { mw, iem, ref, deals, other, store, providers };
}

function action(ref: SubscriberRef, everywhere = true): Action {
  const subject = `ref:${ref.providerType}:${ref.listId}:${ref.subscriberId}`;
  return {
    v: 1,
    id: subject,
    subject,
    target: { type: 'ref', ref },
    kind: 'complaint',
    reason: 'complaint feedbackType=abuse: unsubscribe (recipient anonymised: by provider ids)',
    providers: ['mw', 'iem'],
    ...(everywhere ? { everywhere: true } : {}),
  };
}

describe('runAction with an everywhere by-ids action', () => {
  it('resolves the address once and unsubscribes it at every provider', async () => {
    const { mw, iem, ref, deals, other, store, providers } = setup();
    const result = await runAction(action(ref), providers, store, () => NOW);
    expect(result.complete).toBe(true);
    expect(mw.received.map((c) => c.operation)).toEqual(['findEmail', 'unsubscribeEverywhere']);
    expect(iem.received).toMatchObject([{ operation: 'unsubscribeEverywhere', email: 'alice@example.com' }]);
    for (const r of [ref, deals]) expect(mw.isActive(r)).toBe(false);
    expect(iem.isActive(other)).toBe(false);
    const subject = action(ref).subject;
    const onIds = store.audit.filter((a) => a.subject === subject);
    expect(onIds.find((a) => a.type === 'decision')?.reason).toMatch(/resolved to alice@example\.com at mw/);
    expect(onIds.filter((a) => a.type === 'provider').map((a) => a.outcome)).toEqual(['done', 'done']);
    const onAddress = store.audit.filter((a) => a.subject === 'alice@example.com');
    expect(onAddress.map((a) => a.type)).toEqual(['decision', 'provider', 'provider']);
    expect(onAddress[0]?.reason).toContain(subject);
  });

  it('ids unknown at the provider: the one subscription is tried and recorded not-found, nothing widened', async () => {
    const { mw, iem, store, providers } = setup();
    const gone = { providerType: 'mailwizz', listId: 'news', subscriberId: 'gone' };
    const result = await runAction(action(gone), providers, store, () => NOW);
    expect(result.complete).toBe(true);
    expect(result.outcomes.map((o) => [o.provider, o.outcome])).toEqual([
      ['mw', 'not-found'],
      ['iem', 'not-found'],
    ]);
    expect(mw.received.map((c) => c.operation)).toEqual(['findEmail', 'unsubscribeFromList']);
    expect(iem.received).toEqual([]);
  });

  it('a lookup that fails leaves every provider pending (retryable), nothing called', async () => {
    const { mw, iem, ref, store, providers } = setup();
    mw.failNext('transient');
    const result = await runAction(action(ref), providers, store, () => NOW);
    expect(result.complete).toBe(false);
    expect(result.outcomes.map((o) => [o.provider, o.outcome, o.retryable])).toEqual([
      ['mw', 'failed', true],
      ['iem', 'failed', true],
    ]);
    expect(iem.received).toEqual([]);
    expect(mw.isActive(ref)).toBe(true);
  });

  it('a retry narrowed to the provider that failed still resolves the ids at their own provider', async () => {
    const { mw, iem, ref, other, store, providers } = setup();
    const retry = { ...action(ref), providers: ['iem'] };
    const result = await runAction(retry, providers, store, () => NOW);
    expect(result.outcomes.map((o) => [o.provider, o.outcome])).toEqual([['iem', 'done']]);
    expect(mw.received.map((c) => c.operation)).toEqual(['findEmail']);
    expect(iem.isActive(other)).toBe(false);
  });

  it('without the flag a by-ids action stays on its one list', async () => {
    const { mw, ref, deals, store, providers } = setup();
    await runAction({ ...action(ref, false), providers: ['mw'] }, providers, store, () => NOW);
    expect(mw.isActive(ref)).toBe(false);
    expect(mw.isActive(deals)).toBe(true);
  });
});
