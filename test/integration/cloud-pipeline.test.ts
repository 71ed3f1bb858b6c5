/**
 * The cloud path end to end on this machine: shipper envelopes (the shipper's own encoder) →
 * fauxqs records queue → the real ingest handler module → dynalite → actions queue → the real act
 * handler module → the real MailWizz adapter → the fake MailWizz server. Everything on 127.0.0.1,
 * started here. One sandbox for the file (the handler modules read their environment once);
 * scenarios use their own addresses and run in order.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbRejectLog, dayOf } from '#adapters/dynamodb/dynamodb-reject-log.ts';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import type { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { redriveQueue } from '#sandbox/redrive.ts';
import type { Sandbox } from '#sandbox/runtime.ts';
import { bounceRecord } from '#test/support/builders.ts';
import { type CloudSandbox, startCloudSandbox } from '#test/support/cloud-sandbox.ts';
import type { EncodedMessage } from '../../shipper/message/message-types.ts';

const F_HEADER = 'type,timeLogged,orig,rcpt,feedbackType,header_X-Mw-Subscriber-Uid,header_X-Mw-List-Uid';

let cloud: CloudSandbox;
let fake: FakeMailwizzServer;
let sandbox: Sandbox;
let store: DynamoDbSuppressionStore;

/** A PowerMTA 5 `b` record (23 columns, ACCT_HEADER). */
function bounce(rcpt: string, category: string, loggedSeconds: number, job = 'job-1'): string {
  return bounceRecord({
    rcpt,
    at: Date.UTC(2026, 10, 20, 10, 0, 0) + loggedSeconds * 1000,
    category,
    status: category === 'quota-issues' ? '4.2.2 (mailbox full)' : undefined,
    job,
    envId: `env-${loggedSeconds}`,
  });
}

const encode = (lines: string[], header?: string) => cloud.encode(lines, header);
const ship = (message: EncodedMessage) => cloud.send(message);
const until = (what: string, check: () => boolean | Promise<boolean>, ms?: number) =>
  cloud.until(what, check, ms);
const queueDepth = (url: string) => cloud.queueDepth(url);
const settled = () => cloud.settled();
const subscriberStatus = (uid: string): string | undefined => fake.subscriber(uid)?.status;

beforeAll(async () => {
  cloud = await startCloudSandbox({
    keyEnv: 'IT_MAILWIZZ_KEY',
    apiKey: 'mw-test-key-0123456789',
    // Soft bounces seconds apart must add up here (the default counts one per UTC day).
    config: { policy: { soft: { threshold: 3, windowDays: 30, onePerUtcDay: false } } },
    tuning: { maxReceiveCount: 3, retryBaseSeconds: 1, retryMaxSeconds: 1 },
  });
  ({ fake, sandbox } = cloud);
  store = new DynamoDbSuppressionStore({ client: cloud.documents, table: sandbox.context.table });
});

afterAll(async () => {
  await cloud?.stop();
});

describe('cloud pipeline on fauxqs + dynalite + fake MailWizz', () => {
  it('unsubscribes hard bounces everywhere once and keeps rejects', async () => {
    const listA = fake.addList('A');
    const listB = fake.addList('B');
    const subs = ['hard1@example.org', 'hard2@example.org'].flatMap((e) => [
      fake.addSubscriber(listA, e),
      fake.addSubscriber(listB, e),
    ]);
    const message = await encode([
      bounce('hard1@example.org', 'bad-mailbox', 1),
      bounce('hard2@example.org', 'bad-domain', 2),
      'b,this is not a record',
      bounce('hard1@example.org', 'bad-mailbox', 3),
    ]);
    await ship(message);
    await until('hard bounces unsubscribed', () => subs.every((s) => subscriberStatus(s) === 'unsubscribed'));
    await until('queues drained', settled);
    for (const s of subs) expect(fake.subscriber(s)?.changes).toBe(1);
    const rejects = await createDynamoDbRejectLog(cloud.documents, sandbox.context.table).list(
      dayOf(Date.now()),
    );
    expect(rejects.some((r) => r.raw === 'b,this is not a record')).toBe(true);
    const status = await store.status('hard1@example.org');
    expect(status.suppressed?.providersDone).toEqual(['mw']);
    const provider = status.audit.find((a) => a.type === 'provider');
    expect(provider).toMatchObject({ provider: 'mw', outcome: 'done' });
    expect(provider?.lists?.map((l) => l.listId).sort()).toEqual([listA, listB].sort());
  });

  it('turns soft bounces into an unsubscribe at the threshold, across messages', async () => {
    const list = fake.addList('Soft');
    const sub = fake.addSubscriber(list, 'soft@example.org');
    for (const [i, t] of [10, 20].entries()) {
      await ship(await encode([bounce('soft@example.org', 'quota-issues', t, `soft-job-${i}`)]));
      await until(
        'soft bounce counted',
        async () => (await store.status('soft@example.org')).softBounces.length === i + 1,
      );
    }
    await until('queues drained', settled);
    expect(subscriberStatus(sub)).toBe('confirmed');
    // A replay of the second message is not a third bounce.
    await ship(await encode([bounce('soft@example.org', 'quota-issues', 20, 'soft-job-1')]));
    await until('queues drained', settled);
    expect((await store.status('soft@example.org')).softBounces).toHaveLength(2);
    expect(subscriberStatus(sub)).toBe('confirmed');
    await ship(await encode([bounce('soft@example.org', 'quota-issues', 30, 'soft-job-2')]));
    await until('third soft bounce unsubscribes', () => subscriberStatus(sub) === 'unsubscribed');
    expect(fake.subscriber(sub)?.changes).toBe(1);
  });

  it('resolves anonymised complaints through MailWizz ids to the address and unsubscribes it everywhere', async () => {
    // The complaint policy applies to the person (issue 11 item 2): one lookup by ids, then every list.
    const listA = fake.addList('News');
    const listB = fake.addList('Offers');
    const onA = fake.addSubscriber(listA, 'complainer@example.org');
    const onB = fake.addSubscriber(listB, 'complainer@example.org');
    const t = '2026-11-20 11:00:00+0000';
    await ship(await encode([`f,${t},news@example.com,,abuse,${onA},${listA}`], F_HEADER));
    await until('complaint unsubscribed', () => subscriberStatus(onB) === 'unsubscribed');
    await until('queues drained', settled);
    expect(subscriberStatus(onA)).toBe('unsubscribed');
    expect(fake.subscriber(onA)?.changes).toBe(1);
    expect(fake.subscriber(onB)?.changes).toBe(1);
  });

  it('applies repeated and replayed messages exactly once', async () => {
    const list = fake.addList('Replay');
    const sub = fake.addSubscriber(list, 'replay@example.org');
    const message = await encode([
      bounce('replay@example.org', 'bad-mailbox', 40),
      bounce('replay@example.org', 'bad-mailbox', 40),
    ]);
    const before = fake.mutatingRequests();
    await Promise.all([ship(message), ship(message), ship(message)]);
    await until('unsubscribed', () => subscriberStatus(sub) === 'unsubscribed');
    await until('queues drained', settled);
    // Replayed after everything finished (a shipper resend after a crash): no provider call at all.
    const calls = fake.http.totalRequests();
    await ship(message);
    await until('queues drained', settled);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.subscriber(sub)?.changes).toBe(1);
    expect(fake.mutatingRequests() - before).toBe(1);
    expect(fake.http.totalRequests()).toBe(calls);
  });

  it('retries through a provider outage that recovers, without duplicates', async () => {
    const list = fake.addList('Outage');
    const sub = fake.addSubscriber(list, 'outage@example.org');
    fake.http.inject({ status: 503, times: 2 });
    await ship(await encode([bounce('outage@example.org', 'bad-mailbox', 50)]));
    await until('unsubscribed after the outage', () => subscriberStatus(sub) === 'unsubscribed', 20_000);
    await until('queues drained', settled);
    expect(fake.subscriber(sub)?.changes).toBe(1);
    expect(await queueDepth(sandbox.context.actions.dlqUrl)).toBe(0);
    const audit = (await store.status('outage@example.org')).audit.filter((a) => a.type === 'provider');
    expect(audit.map((a) => a.outcome)).toEqual(['failed', 'failed', 'done']);
  });

  it('parks an action in the DLQ when the outage lasts, and a redrive finishes it', async () => {
    const list = fake.addList('Down');
    const sub = fake.addSubscriber(list, 'down@example.org');
    // maxReceiveCount 3: three failed runs, then the queue moves the message to the DLQ.
    fake.http.inject({ status: 503, times: 3 });
    await ship(await encode([bounce('down@example.org', 'bad-mailbox', 60)]));
    await until(
      'action in the DLQ',
      async () => (await queueDepth(sandbox.context.actions.dlqUrl)) === 1,
      25_000,
    );
    expect(subscriberStatus(sub)).toBe('confirmed');
    const moved = await redriveQueue({
      sqs: sandbox.context.sqs,
      dlqUrl: sandbox.context.actions.dlqUrl,
      targetUrl: sandbox.context.actions.url,
    });
    expect(moved).toEqual({ moved: 1, failed: 0 });
    await until('unsubscribed after redrive', () => subscriberStatus(sub) === 'unsubscribed');
    await until('queues drained', settled);
    expect(fake.subscriber(sub)?.changes).toBe(1);
    expect(await queueDepth(sandbox.context.actions.dlqUrl)).toBe(0);
  });
});
