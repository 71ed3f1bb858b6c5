/**
 * The act function keeps what an action message says about unverified ids (a mailto unsubscribe:
 * `unverifiedUntil`, and the `everywhere` flag) through its message schema, so a provider's answer
 * can make the provisional suppression permanent (docs/security.md, "SES mail").
 */
import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createMemoryMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import type { Action } from '#core/act/action.ts';

import { type ActDeps, runActionsBatch } from '#lambda/act/act.ts';
import { MemoryListProvider } from '#test/support/memory-list-provider.ts';
import { silentLog } from '#test/support/silent-log.ts';

const NOW = 1_764_000_000_000;
const UNTIL = NOW + 15 * 86_400_000;

function record(body: Action): SQSRecord {
  return {
    messageId: 'm1',
    receiptHandle: 'rh-m1',
    body: JSON.stringify(body),
    attributes: {
      ApproximateReceiveCount: '1',
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

async function runOne(subscriberId: string | undefined) {
  const provider = new MemoryListProvider({ id: 'mw', type: 'mailwizz' });
  const ref = subscriberId
    ? { ...provider.addSubscriber('l1', 'jane@example.com'), campaignId: 'c1' }
    : { providerType: 'mailwizz', listId: 'l1', subscriberId: 'invented', campaignId: 'c1' };
  const subject = `ref:mailwizz:l1:${ref.subscriberId}`;
  const sqlite = new SqliteSuppressionStore({ path: ':memory:', now: () => NOW });
  await sqlite.suppress([
    {
      subject,
      kind: 'unsubscribe',
      reason: 'mailto',
      recordKey: 'k',
      at: NOW,
      providers: ['mw'],
      expiresAt: UNTIL,
    },
  ]);
  const store = Object.assign(sqlite, {
    providersDone: async (s: string) => (await sqlite.status(s)).suppressed?.providersDone ?? [],
  });
  const deps: ActDeps = {
    providers: new Map([['mw', provider]]),
    store,
    claims: { claim: async () => 'claimed', complete: async () => {}, release: async () => {} },
    visibility: { delay: async () => {} },
    metrics: createMemoryMetricSink(),
    log: silentLog,
    now: () => NOW,
    backoff: { baseSeconds: 10, maxSeconds: 60 },
  };
  const action: Action = {
    v: 1,
    id: subject,
    subject,
    target: { type: 'ref', ref },
    kind: 'unsubscribe',
    reason: 'List-Unsubscribe mail',
    occurredAt: NOW,
    providers: ['mw'],
    everywhere: true,
    unverifiedUntil: UNTIL,
  };
  await runActionsBatch({ Records: [record(action)] }, deps);
  const status = await sqlite.status(subject);
  return { status, received: provider.received };
}

describe('act: unverified ids from an action message', () => {
  it('a subscription the provider knows: the suppression becomes permanent', async () => {
    const { status, received } = await runOne('known');
    expect(status.suppressed?.providersDone).toEqual(['mw']);
    expect(status.suppressed?.expiresAt).toBeUndefined();
    // `everywhere`: the ids are resolved to the address (one lookup), then it goes everywhere.
    expect(received.map((c) => c.operation)).toEqual(['findEmail', 'unsubscribeEverywhere']);
  });

  it('an invented subscriber: the suppression still expires', async () => {
    const { status } = await runOne(undefined);
    expect(status.suppressed?.expiresAt).toBe(UNTIL);
    for (const entry of status.audit) expect(entry.expiresAt).toBe(UNTIL);
  });
});
