/**
 * The ListProvider contract: every implementation (each real adapter against its fake server, and
 * MemoryListProvider) must pass it. Transport behaviours (retries, timeouts, 429, concurrency) run
 * only where there is a transport.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '#core/errors.ts';
import type { SubscriberRef } from '#core/mail-event.ts';
import { type ActionContext, ListOutcome, type ListProvider } from '#core/ports.ts';
import { createHttpFetch } from '#providers/http-fetch.ts';
import type { ProviderDeps, ProviderLogEvent } from '#providers/provider-definition.ts';
import type { Fault } from '#sandbox/fakes/fake-http-server.ts';

interface ContractProviderOptions {
  badCredentials?: boolean;
  concurrency?: number;
  maxRetries?: number;
  timeoutMs?: number;
}

interface ContractCapabilities {
  /** Retries, timeouts, 429 and concurrency apply (there is an HTTP transport and a fake server). */
  transport: boolean;
  /** The provider names the lists it changed (a webhook cannot know them). */
  reportsLists: boolean;
  /** Unknown addresses and repeated unsubscribes cost no mutating request. */
  readsBeforeWrite: boolean;
  /** Upper bound of requests for one unsubscribe-everywhere over `lists` active lists. */
  maxCallsEverywhere?: (lists: number) => number;
}

interface ContractFixture {
  provider(deps: ProviderDeps, options?: ContractProviderOptions): ListProvider;
  /** Subscribes `email` (active) to `lists` lists; one ref per list. */
  seed(email: string, lists: number): SubscriberRef[];
  /** A ref naming no subscription. */
  unknownRef(): SubscriberRef;
  isActive(ref: SubscriberRef): boolean;
  /** How many times this subscription was changed at the provider. */
  changesOf(ref: SubscriberRef): number;
  effects(): number;
  mutatingRequests(): number;
  /** Transport only: requests received in total. */
  requests?(): number;
  /** Transport only: fault on the next matching request (`mutating: true` targets the mutating call). */
  inject?(fault: Fault & { mutating?: boolean }): void;
  setLatency?(ms: number): void;
  maxInFlight?(): number;
  /** Values that must never show up in errors or logs. */
  secrets: string[];
  close(): Promise<void>;
}

interface RecordingDeps extends ProviderDeps {
  logs: ProviderLogEvent[];
  sleeps: number[];
}

/**
 * The production HTTP client (http-fetch.ts) and a real clock; sleeps are recorded and shortened
 * so backoff is asserted, not waited.
 */
function recordingDeps(): RecordingDeps {
  const logs: ProviderLogEvent[] = [];
  const sleeps: number[] = [];
  return {
    logs,
    sleeps,
    fetch: createHttpFetch(),
    now: () => Date.now(),
    sleep: (ms) => {
      sleeps.push(ms);
      return new Promise((resolve) => setTimeout(resolve, Math.min(ms, 5)));
    },
    random: () => 0.5,
    log: (event) => logs.push(event),
  };
}

let sequence = 0;
function context(kind: ActionContext['kind'] = 'bounce'): ActionContext {
  sequence += 1;
  return { actionId: `act_${sequence}`, kind, reason: 'category=bad-mailbox rule=pmta action=unsubscribe' };
}

function uniqueEmail(tag: string): string {
  sequence += 1;
  return `${tag}.${sequence}+x@example.com`;
}

async function expectProviderError(
  promise: Promise<unknown>,
  kind: ProviderError['kind'],
): Promise<ProviderError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  expect((error as ProviderError).kind).toBe(kind);
  return error as ProviderError;
}

function leakedSecrets(fixture: ContractFixture, values: unknown[]): string[] {
  const text = values
    .map((v) =>
      v instanceof Error
        ? `${v.message}\n${v.stack}\n${JSON.stringify(v)}\n${String(v.cause ?? '')}`
        : JSON.stringify(v),
    )
    .join('\n');
  return fixture.secrets.filter((s) => s.length > 0 && text.includes(s));
}

function describeListProviderContract(
  name: string,
  capabilities: ContractCapabilities,
  setup: () => Promise<ContractFixture> | ContractFixture,
): void {
  describe(`ListProvider contract: ${name}`, () => {
    let fixture: ContractFixture;
    let deps: RecordingDeps;

    beforeEach(async () => {
      fixture = await setup();
      deps = recordingDeps();
    });
    afterEach(async () => {
      await fixture.close();
    });

    it('unsubscribes an active address everywhere and reports each list done', async () => {
      const email = uniqueEmail('active');
      const refs = fixture.seed(email, 3);
      const result = await fixture.provider(deps).unsubscribeEverywhere(email, context());
      expect(result.lists.length).toBeGreaterThan(0);
      expect(result.lists.every((l) => l.outcome === ListOutcome.done)).toBe(true);
      if (capabilities.reportsLists) {
        expect(result.lists.map((l) => l.listId).sort()).toEqual(refs.map((r) => r.listId).sort());
      }
      for (const ref of refs) expect(fixture.isActive(ref)).toBe(false);
      for (const ref of refs) expect(fixture.changesOf(ref)).toBe(1);
      expect(result.calls).toBeGreaterThanOrEqual(1);
      if (capabilities.maxCallsEverywhere) {
        expect(result.calls).toBeLessThanOrEqual(capabilities.maxCallsEverywhere(refs.length));
      }
    });

    it('reports already on a second unsubscribe, with no extra change or mutating call', async () => {
      const email = uniqueEmail('twice');
      const refs = fixture.seed(email, 2);
      const provider = fixture.provider(deps);
      await provider.unsubscribeEverywhere(email, context());
      const effects = fixture.effects();
      const mutating = fixture.mutatingRequests();
      const second = await provider.unsubscribeEverywhere(email, context());
      expect(second.lists.length).toBeGreaterThan(0);
      expect(second.lists.every((l) => l.outcome === ListOutcome.already)).toBe(true);
      expect(fixture.effects()).toBe(effects);
      if (capabilities.readsBeforeWrite) expect(fixture.mutatingRequests()).toBe(mutating);
      for (const ref of refs) expect(fixture.changesOf(ref)).toBe(1);
    });

    it('reports an unknown address as not found, changing nothing', async () => {
      fixture.seed(uniqueEmail('other'), 1);
      const result = await fixture.provider(deps).unsubscribeEverywhere(uniqueEmail('unknown'), context());
      expect(result.lists.every((l) => l.outcome === ListOutcome.notFound)).toBe(true);
      expect(fixture.effects()).toBe(0);
      if (capabilities.readsBeforeWrite) expect(fixture.mutatingRequests()).toBe(0);
    });

    it('unsubscribes one list by provider ids and leaves the other lists alone', async () => {
      const email = uniqueEmail('scoped');
      const [first, second] = fixture.seed(email, 2) as [SubscriberRef, SubscriberRef];
      const provider = fixture.provider(deps);
      const result = await provider.unsubscribeFromList(first, context('unsubscribe'));
      expect(result.lists).toEqual([
        expect.objectContaining({ listId: first.listId, outcome: ListOutcome.done }),
      ]);
      expect(fixture.isActive(first)).toBe(false);
      expect(fixture.isActive(second)).toBe(true);
      const mutating = fixture.mutatingRequests();
      const again = await provider.unsubscribeFromList(first, context('unsubscribe'));
      expect(again.lists.map((l) => l.outcome)).toEqual([ListOutcome.already]);
      expect(fixture.changesOf(first)).toBe(1);
      if (capabilities.readsBeforeWrite) expect(fixture.mutatingRequests()).toBe(mutating);
    });

    it('reports unknown provider ids as not found', async () => {
      fixture.seed(uniqueEmail('known'), 1);
      const ref = fixture.unknownRef();
      const result = await fixture.provider(deps).unsubscribeFromList(ref, context('complaint'));
      expect(result.lists).toEqual([
        expect.objectContaining({ listId: ref.listId, outcome: ListOutcome.notFound }),
      ]);
      expect(fixture.effects()).toBe(0);
    });

    it('surfaces refused credentials as ProviderError auth, without retrying', async () => {
      const email = uniqueEmail('auth');
      const [ref] = fixture.seed(email, 1) as [SubscriberRef];
      const provider = fixture.provider(deps, { badCredentials: true, maxRetries: 3 });
      const before = fixture.requests?.() ?? 0;
      const error = await expectProviderError(provider.unsubscribeEverywhere(email, context()), 'auth');
      expect(error.retryable).toBe(true);
      if (fixture.requests) expect(fixture.requests() - before).toBe(1);
      await expectProviderError(provider.unsubscribeFromList(ref, context()), 'auth');
      expect(fixture.isActive(ref)).toBe(true);
      const check = await provider.checkCredentials();
      expect(check.ok).toBe(false);
      expect(leakedSecrets(fixture, [error, check, ...deps.logs])).toEqual([]);
    });

    it('accepts good credentials in checkCredentials', async () => {
      fixture.seed(uniqueEmail('check'), 1);
      const check = await fixture.provider(deps).checkCredentials();
      expect(check.ok).toBe(true);
      expect(leakedSecrets(fixture, [check])).toEqual([]);
    });

    describe.runIf(capabilities.transport)('transport', () => {
      it('retries a 5xx (even one that lost a response) and ends done with exactly one change', async () => {
        const email = uniqueEmail('flaky');
        const refs = fixture.seed(email, 2);
        fixture.inject!({ status: 502 });
        fixture.inject!({ mutating: true, phase: 'after', status: 503 });
        const result = await fixture.provider(deps).unsubscribeEverywhere(email, context());
        expect(result.lists.every((l) => l.outcome === ListOutcome.done)).toBe(true);
        for (const ref of refs) {
          expect(fixture.isActive(ref)).toBe(false);
          expect(fixture.changesOf(ref)).toBe(1);
        }
        expect(deps.logs.filter((l) => l.event === 'retry').map((l) => l.status)).toEqual([502, 503]);
      });

      it('honours Retry-After on 429', async () => {
        const email = uniqueEmail('throttled');
        const [ref] = fixture.seed(email, 1) as [SubscriberRef];
        fixture.inject!({ status: 429, retryAfter: '3' });
        const result = await fixture.provider(deps).unsubscribeEverywhere(email, context());
        expect(result.lists.map((l) => l.outcome)).toEqual([ListOutcome.done]);
        expect(fixture.isActive(ref)).toBe(false);
        expect(deps.sleeps.some((ms) => ms >= 3000)).toBe(true);
      });

      it('times out a hanging request and retries it', async () => {
        const email = uniqueEmail('hang');
        const [ref] = fixture.seed(email, 1) as [SubscriberRef];
        fixture.inject!({ hang: true });
        const result = await fixture
          .provider(deps, { timeoutMs: 300 })
          .unsubscribeEverywhere(email, context());
        expect(result.lists.map((l) => l.outcome)).toEqual([ListOutcome.done]);
        expect(fixture.isActive(ref)).toBe(false);
        expect(deps.logs.some((l) => l.event === 'retry' && /timed out/.test(l.message ?? ''))).toBe(true);
      });

      it('gives up with ProviderError transient after maxRetries when the provider never recovers', async () => {
        const email = uniqueEmail('down');
        const [ref] = fixture.seed(email, 1) as [SubscriberRef];
        fixture.inject!({ status: 503, times: 1000 });
        const before = fixture.requests!();
        const error = await expectProviderError(
          fixture.provider(deps, { maxRetries: 2 }).unsubscribeEverywhere(email, context()),
          'transient',
        );
        expect(error.status).toBe(503);
        expect(fixture.requests!() - before).toBe(3);
        expect(fixture.isActive(ref)).toBe(true);
        const backoff = deps.sleeps.slice(0, 2);
        expect(backoff[1]!).toBeGreaterThan(backoff[0]!);
      });

      it('keeps at most `concurrency` requests in flight', async () => {
        const emails = Array.from({ length: 6 }, () => uniqueEmail('parallel'));
        for (const email of emails) fixture.seed(email, 1);
        fixture.setLatency!(40);
        const provider = fixture.provider(deps, { concurrency: 2 });
        const results = await Promise.all(emails.map((e) => provider.unsubscribeEverywhere(e, context())));
        expect(results.every((r) => r.lists.every((l) => l.outcome === ListOutcome.done))).toBe(true);
        expect(fixture.maxInFlight!()).toBe(2);
      });

      it('keeps credentials out of errors and log events', async () => {
        const email = uniqueEmail('secret');
        fixture.seed(email, 1);
        const errors: unknown[] = [];
        fixture.inject!({ hang: true });
        fixture.inject!({ status: 500 });
        const failing = fixture.provider(deps, { timeoutMs: 200, maxRetries: 1 });
        await failing.unsubscribeEverywhere(email, context()).catch((e: unknown) => errors.push(e));
        const refused = fixture.provider(deps, { badCredentials: true });
        await refused.unsubscribeEverywhere(email, context()).catch((e: unknown) => errors.push(e));
        expect(errors).toHaveLength(2);
        expect(deps.logs.length).toBeGreaterThan(0);
        expect(leakedSecrets(fixture, [...errors, ...deps.logs])).toEqual([]);
        // Paths are logged without query strings (they can carry addresses).
        expect(deps.logs.filter((l) => l.path?.includes('?'))).toEqual([]);
      });
    });
  });
}

export type { ContractCapabilities, ContractFixture, ContractProviderOptions, RecordingDeps };
export { describeListProviderContract, recordingDeps };
