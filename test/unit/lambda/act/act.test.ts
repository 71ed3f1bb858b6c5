import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createMemoryMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import type { Action } from '#core/act/action.ts';
import type { ActionClaims } from '#core/ports.ts';
import { type ActDeps, backoffSeconds, runActionsBatch } from '#lambda/act/act.ts';
import { METRICS } from '#lambda/metric-names.ts';
import { hardBounceAction } from '#test/support/builders.ts';
import { MemoryListProvider } from '#test/support/memory-list-provider.ts';
import { silentLog } from '#test/support/silent-log.ts';

const NOW = 1_764_000_000_000;

function record(body: unknown, receives = 1, id = 'm1'): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: String(receives),
      SentTimestamp: '0',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '0',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:actions',
    awsRegion: 'us-east-1',
  };
}

function action(address: string): Action {
  return hardBounceAction(address, { occurredAt: NOW - 1000, providers: ['mem'] });
}

function memoryClaims(): ActionClaims & { held: Map<string, string> } {
  const held = new Map<string, string>();
  return {
    held,
    async claim(id, token) {
      const owner = held.get(id);
      if (owner && owner !== token) return 'in-progress';
      held.set(id, token);
      return 'claimed';
    },
    async complete(id) {
      held.delete(id);
    },
    async release(id) {
      held.delete(id);
    },
  };
}

function setup() {
  const provider = new MemoryListProvider({ id: 'mem' });
  const sqlite = new SqliteSuppressionStore({ path: ':memory:' });
  const store = Object.assign(sqlite, {
    providersDone: async (s: string) => (await sqlite.status(s)).suppressed?.providersDone ?? [],
  });
  const delays: number[] = [];
  const metrics = createMemoryMetricSink();
  const claims = memoryClaims();
  const deps: ActDeps = {
    providers: new Map([['mem', provider]]),
    store,
    claims,
    visibility: { delay: async (_arn, _rh, s) => void delays.push(s) },
    metrics,
    log: silentLog,
    now: () => NOW,
    backoff: { baseSeconds: 10, maxSeconds: 60 },
  };
  return { provider, store, delays, metrics, claims, deps };
}

const event = (...records: SQSRecord[]): SQSEvent => ({ Records: records });

describe('runActionsBatch', () => {
  it('runs an action, records metrics and end-to-end latency, and skips it when replayed', async () => {
    const { provider, store, deps, metrics } = setup();
    provider.addSubscriber('l1', 'a@example.com');
    await store.suppress([
      { subject: 'a@example.com', kind: 'bounce', reason: 'r', recordKey: 'k', at: NOW, providers: ['mem'] },
    ]);
    const [first] = await runActionsBatch(event(record(action('a@example.com'))), deps);
    expect(first).toMatchObject({ status: 'fulfilled', value: { outcome: 'done' } });
    expect(metrics.total(METRICS.providerOutcomes, { Provider: 'mem', Outcome: 'done' })).toBe(1);
    expect(metrics.timings(METRICS.endToEndLatency)).toEqual([1000]);
    const [again] = await runActionsBatch(event(record(action('a@example.com'), 1, 'm2')), deps);
    expect(again).toMatchObject({ status: 'fulfilled', value: { outcome: 'duplicate' } });
    expect(provider.received.filter((c) => c.operation === 'unsubscribeEverywhere')).toHaveLength(1);
  });

  it('an unsubscribe request still owed after an attempt reports its age (the 48-hour promise)', async () => {
    const { provider, deps, metrics } = setup();
    provider.failNext('transient');
    const request: Action = {
      ...action('late@example.com'),
      kind: 'unsubscribe',
      requestedAt: NOW - 30 * 3_600_000,
    };
    const [out] = await runActionsBatch(event(record(request, 1)), deps);
    expect(out?.status).toBe('rejected');
    expect(metrics.timings(METRICS.pendingUnsubscribeAge)).toEqual([30 * 3_600_000]);
    // Done: nothing is owed, no age reported.
    provider.addSubscriber('l1', 'late@example.com');
    await runActionsBatch(event(record(request, 2, 'm9')), deps);
    expect(metrics.timings(METRICS.pendingUnsubscribeAge)).toEqual([30 * 3_600_000]);
  });

  it('backs a retryable failure off by receive count and reports the message failed', async () => {
    const { provider, deps, delays, claims } = setup();
    provider.failNext('transient');
    const [out] = await runActionsBatch(event(record(action('b@example.com'), 3)), deps);
    expect(out?.status).toBe('rejected');
    expect(delays).toEqual([40]);
    expect(claims.held.size).toBe(0);
  });

  it('never acknowledges a permanent failure: backed off like an outage, counted, parked in the DLQ by the redrive policy', async () => {
    const { provider, deps, metrics, delays } = setup();
    deps.maxReceiveCount = 3;
    provider.failNext('permanent', 3);
    for (const receives of [1, 2]) {
      const [out] = await runActionsBatch(event(record(action('c@example.com'), receives)), deps);
      expect(out?.status).toBe('rejected');
    }
    expect(delays).toEqual([10, 20]);
    expect(metrics.total(METRICS.providerPermanentErrors, { Provider: 'mem' })).toBe(2);
    expect(metrics.total(METRICS.actionsFailed, { Provider: 'mem' })).toBe(0);
    // The last receive before the DLQ: still handed back (SQS then moves it), now counted as failed.
    const [last] = await runActionsBatch(event(record(action('c@example.com'), 3)), deps);
    expect(last?.status).toBe('rejected');
    expect(metrics.total(METRICS.actionsFailed, { Provider: 'mem' })).toBe(1);
    // After the fix, a redriven message delivers it.
    provider.addSubscriber('l1', 'c@example.com');
    const [redriven] = await runActionsBatch(event(record(action('c@example.com'), 1, 'm9')), deps);
    expect(redriven).toMatchObject({ status: 'fulfilled', value: { outcome: 'done' } });
  });

  it('keeps the everywhere flag of a by-ids action: the address is resolved and unsubscribed everywhere', async () => {
    const { deps } = setup();
    const mw = new MemoryListProvider({ id: 'mw', type: 'mailwizz' });
    const ref = mw.addSubscriber('news', 'hidden@example.com');
    const deals = mw.addSubscriber('deals', 'hidden@example.com');
    deps.providers = new Map([['mw', mw]]);
    const subject = `ref:mailwizz:news:${ref.subscriberId}`;
    const body = {
      ...action('x'),
      id: subject,
      subject,
      target: { type: 'ref', ref },
      kind: 'complaint',
      everywhere: true,
      providers: ['mw'],
    };
    const [out] = await runActionsBatch(event(record(body)), deps);
    expect(out).toMatchObject({ status: 'fulfilled', value: { outcome: 'done' } });
    expect(mw.isActive(deals)).toBe(false);
  });

  it('leaves an action claimed by another run for later', async () => {
    const { deps, claims, provider, delays } = setup();
    claims.held.set('d@example.com', 'other-message');
    const [out] = await runActionsBatch(event(record(action('d@example.com'))), deps);
    expect(out?.status).toBe('rejected');
    expect(delays).toEqual([10]);
    expect(provider.received).toHaveLength(0);
  });

  it('acknowledges a malformed body instead of retrying it forever', async () => {
    const { deps } = setup();
    const [out] = await runActionsBatch(event(record('{"v":1,"id":')), deps);
    expect(out).toMatchObject({ status: 'fulfilled', value: { outcome: 'malformed' } });
  });

  it.each([
    { receives: 1, expected: 30 },
    { receives: 2, expected: 60 },
    { receives: 10, expected: 900 },
  ])('backoff after $receives receives is $expected s', ({ receives, expected }) => {
    expect(backoffSeconds(receives, { baseSeconds: 30, maxSeconds: 900 })).toBe(expected);
  });
});
