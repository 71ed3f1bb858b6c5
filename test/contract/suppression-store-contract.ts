/**
 * Behaviours every SuppressionStore adapter must have (SQLite locally, DynamoDB in the cloud).
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SuppressionRequest, SuppressionStore } from '#core/ports.ts';

const DAY = 86_400_000;
const T0 = 1_764_000_000_000;

function request(subject: string, providers: string[], at = T0): SuppressionRequest {
  return {
    subject,
    kind: 'bounce',
    category: 'bad-mailbox',
    reason: 'test',
    recordKey: `k-${subject}-${at}`,
    at,
    providers,
  };
}

/** `now` is the store's clock for expiry (provisional suppressions); tests move it. */
function describeSuppressionStoreContract(
  name: string,
  makeStore: (now: () => number) => Promise<SuppressionStore>,
): void {
  describe(`SuppressionStore contract: ${name}`, () => {
    let store: SuppressionStore;
    let clock = T0;
    beforeEach(async () => {
      clock = T0;
      store = await makeStore(() => clock);
    });
    afterEach(async () => {
      await store.close();
    });

    it('suppresses a new subject once; a replay is already suppressed', async () => {
      const [first] = await store.suppress([request('a@example.com', ['mw'])]);
      expect(first).toEqual({ subject: 'a@example.com', state: 'new', pendingProviders: ['mw'] });
      await store.markProvider('a@example.com', 'mw', 'done');
      const [again] = await store.suppress([request('a@example.com', ['mw'])]);
      expect(again).toEqual({ subject: 'a@example.com', state: 'already', pendingProviders: [] });
    });

    it('keeps a subject pending for the providers that have not finished', async () => {
      await store.suppress([request('b@example.com', ['mw', 'iem'])]);
      await store.markProvider('b@example.com', 'mw', 'done');
      await store.markProvider('b@example.com', 'iem', 'failed');
      const [again] = await store.suppress([request('b@example.com', ['mw', 'iem'])]);
      expect(again?.state).toBe('pending');
      expect(again?.pendingProviders).toEqual(['iem']);
    });

    it('a provider added later makes an old suppression pending for it only', async () => {
      await store.suppress([request('c@example.com', ['mw'])]);
      await store.markProvider('c@example.com', 'mw', 'done');
      const [again] = await store.suppress([request('c@example.com', ['mw', 'crm'])]);
      expect(again).toMatchObject({ state: 'pending', pendingProviders: ['crm'] });
    });

    it('the second request for a subject in one batch is already suppressed', async () => {
      const out = await store.suppress([
        request('d@example.com', ['mw']),
        request('d@example.com', ['mw'], T0 + 1),
      ]);
      expect(out.map((o) => o.state)).toEqual(['new', 'already']);
    });

    it('counts soft bounces within the window, each record key once', async () => {
      const window = 30 * DAY;
      const [first] = await store.recordSoftBounces(
        [{ address: 's@example.com', recordKey: 'r1', at: T0 }],
        window,
      );
      expect(first).toBe(1);
      const counts = await store.recordSoftBounces(
        [
          { address: 's@example.com', recordKey: 'r2', at: T0 + DAY },
          { address: 's@example.com', recordKey: 'r2', at: T0 + DAY },
          { address: 'other@example.com', recordKey: 'r1', at: T0 + DAY },
        ],
        window,
      );
      expect(counts).toEqual([2, 2, 1]);
      // Exactly at the window edge it still counts; one ms past it, it does not.
      const [edge] = await store.recordSoftBounces(
        [{ address: 's@example.com', recordKey: 'r3', at: T0 + window }],
        window,
      );
      expect(edge).toBe(3);
      const [past] = await store.recordSoftBounces(
        [{ address: 's@example.com', recordKey: 'r4', at: T0 + window + 1 }],
        window,
      );
      expect(past).toBe(3);
    });

    it('counts a soft bounce decided late (out of order) with the later ones in its window', async () => {
      const window = 7 * DAY;
      const [later] = await store.recordSoftBounces(
        [{ address: 'o@example.com', recordKey: 'late', at: T0 + 3 * DAY }],
        window,
      );
      expect(later).toBe(1);
      const [earlier] = await store.recordSoftBounces(
        [{ address: 'o@example.com', recordKey: 'early', at: T0 }],
        window,
      );
      expect(earlier).toBe(2);
      // Further than the window apart, in either order, they never add up.
      const [far] = await store.recordSoftBounces(
        [{ address: 'o@example.com', recordKey: 'far', at: T0 - 8 * DAY }],
        window,
      );
      expect(far).toBe(1);
    });

    it('counts soft bounces once per UTC day when asked', async () => {
      const counting = { windowMs: 30 * DAY, onePerUtcDay: true };
      const hour = 3_600_000;
      const counts = await store.recordSoftBounces(
        [0, 1, 2, 3, 4].map((i) => ({ address: 'u@example.com', recordKey: `h${i}`, at: T0 + i * hour })),
        counting,
      );
      expect(counts).toEqual([1, 1, 1, 1, 1]);
      const [nextDay] = await store.recordSoftBounces(
        [{ address: 'u@example.com', recordKey: 'd2', at: T0 + DAY }],
        counting,
      );
      expect(nextDay).toBe(2);
    });

    it('a delivery resets the count of an address with soft bounces, and only later bounces count', async () => {
      const window = 30 * DAY;
      await store.recordSoftBounces(
        [
          { address: 'v@example.com', recordKey: 'a', at: T0 },
          { address: 'v@example.com', recordKey: 'b', at: T0 + DAY },
        ],
        window,
      );
      await store.recordDeliveries([
        { address: 'v@example.com', at: T0 + 2 * DAY },
        { address: 'never-bounced@example.com', at: T0 + 2 * DAY },
      ]);
      // An older delivery logged late does not move the reset back.
      await store.recordDeliveries([{ address: 'v@example.com', at: T0 }]);
      const [after] = await store.recordSoftBounces(
        [{ address: 'v@example.com', recordKey: 'c', at: T0 + 3 * DAY }],
        window,
      );
      expect(after).toBe(1);
      const [before] = await store.recordSoftBounces(
        [{ address: 'v@example.com', recordKey: 'late', at: T0 + DAY + 1 }],
        window,
      );
      expect(before).toBe(0);
      expect((await store.status('never-bounced@example.com')).softBounces).toEqual([]);
    });

    it('keeps the classification rule of an audit entry', async () => {
      await store.appendAudit([
        {
          subject: 'rule@example.com',
          at: T0,
          type: 'decision',
          action: 'ignore',
          reason: 'category=policy-related rule=sender-rate-limit: never unsubscribes',
          rule: 'sender-rate-limit',
        },
      ]);
      expect((await store.status('rule@example.com')).audit[0]?.rule).toBe('sender-rate-limit');
    });

    it('keeps an audit trail per subject in order, with provider lists', async () => {
      await store.suppress([request('e@example.com', ['mw'])]);
      await store.appendAudit([
        {
          subject: 'e@example.com',
          at: T0,
          type: 'decision',
          action: 'unsubscribe',
          reason: 'hard bounce',
          line: 3,
        },
        {
          subject: 'e@example.com',
          at: T0 + 5,
          type: 'provider',
          action: 'unsubscribe',
          reason: 'hard bounce',
          provider: 'mw',
          outcome: 'done',
          lists: [{ listId: 'l1', outcome: 'done' }],
        },
      ]);
      const status = await store.status('e@example.com');
      expect(status.suppressed).toMatchObject({ kind: 'bounce', category: 'bad-mailbox', providersDone: [] });
      expect(status.audit.map((a) => [a.type, a.provider ?? null, a.outcome ?? null])).toEqual([
        ['decision', null, null],
        ['provider', 'mw', 'done'],
      ]);
      expect(status.audit[1]?.lists).toEqual([{ listId: 'l1', outcome: 'done' }]);
    });

    describe('provisional suppressions (unverified ids, docs/security.md)', () => {
      const until = T0 + DAY;
      const provisional = (subject: string) => ({ ...request(subject, ['mw']), expiresAt: until });
      const auditEntry = (subject: string) => ({
        subject,
        at: T0,
        type: 'decision' as const,
        action: 'unsubscribe',
        reason: 'mailto',
        expiresAt: until,
      });

      it('expire with their audit trail unless confirmed', async () => {
        expect((await store.suppress([provisional('ref:mw:l:s')]))[0]?.state).toBe('new');
        await store.appendAudit([auditEntry('ref:mw:l:s')]);
        const before = await store.status('ref:mw:l:s');
        expect(before.suppressed?.expiresAt).toBe(until);
        expect(before.audit.map((a) => a.expiresAt)).toEqual([until]);
        expect((await store.suppress([provisional('ref:mw:l:s')]))[0]?.state).toBe('pending');
        clock = until + 1;
        expect((await store.status('ref:mw:l:s')).suppressed).toBeUndefined();
        expect((await store.suppress([provisional('ref:mw:l:s')]))[0]?.state).toBe('new');
      });

      it('become permanent, audit included, once confirmed', async () => {
        await store.suppress([provisional('ref:mw:l:t')]);
        await store.appendAudit([auditEntry('ref:mw:l:t')]);
        await store.markProvider('ref:mw:l:t', 'mw', 'done');
        await store.confirm('ref:mw:l:t');
        clock = until + DAY;
        const status = await store.status('ref:mw:l:t');
        expect(status.suppressed).toMatchObject({ providersDone: ['mw'] });
        expect(status.suppressed?.expiresAt).toBeUndefined();
        expect(status.audit.map((a) => a.expiresAt)).toEqual([undefined]);
        expect((await store.suppress([provisional('ref:mw:l:t')]))[0]?.state).toBe('already');
      });

      it('never turn a permanent suppression into a provisional one', async () => {
        await store.suppress([request('ref:mw:l:u', ['mw'])]);
        await store.suppress([provisional('ref:mw:l:u')]);
        clock = until + 1;
        const status = await store.status('ref:mw:l:u');
        expect(status.suppressed).toBeDefined();
        expect(status.suppressed?.expiresAt).toBeUndefined();
      });

      it('confirming an unknown subject creates nothing', async () => {
        await store.confirm('ref:mw:l:nobody');
        expect((await store.status('ref:mw:l:nobody')).suppressed).toBeUndefined();
      });
    });

    it('reports an unknown subject as not suppressed', async () => {
      const status = await store.status('nobody@example.com');
      expect(status.suppressed).toBeUndefined();
      expect(status.audit).toEqual([]);
    });
  });
}

export { describeSuppressionStoreContract };
