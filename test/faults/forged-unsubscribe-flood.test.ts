/**
 * Fault matrix row "forged unsubscribe flood" (docs/testing.md, docs/security.md): thousands of
 * unsubscribe mails with invented subscriber uids for a real list, from many sender domains, mixed
 * with a few real unsubscribes, through the unsub function's logic on dynalite (state, audit, rate
 * counters) and the act step with the real MailWizz adapter against its protocol fake. Mails over
 * a rate limit are retried later, as SES does. Then: no real subscriber changed except those who
 * asked, every real unsubscribe happened, the state held at most what the limits let in, and once
 * the provisional records expire nothing of the flood is left. A second wave with signing on
 * (forged tags naming real subscribers) writes nothing at all.
 */
import { readFileSync } from 'node:fs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SESEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { createDynamoDbRateCounter } from '#adapters/dynamodb/dynamodb-rate-counter.ts';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import { mailwizzProvider } from '#adapters/providers/mailwizz/mailwizz.ts';
import { defaultProviderDeps } from '#adapters/providers/provider-definition.ts';
import type { Action } from '#core/act/action.ts';
import { runAction } from '#core/act/run-action.ts';
import { createRouter } from '#core/decide/routing.ts';
import { UNVERIFIED_TTL_MS } from '#core/unsubscribe/inbound-unsubscribe.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';
import { handleInboundUnsubscribeEvent, UnsubscribeDeferredError } from '#lambda/unsub/unsub.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';

const FIXTURE = readFileSync(new URL('../fixtures/ses/unsubscribe-pass.json', import.meta.url), 'utf8');
const API_KEY = 'e'.repeat(40);
const T0 = 1_800_000_000_000;
const WINDOW_MS = 600_000;
const LIMITS = { windowMs: WINDOW_MS, perSenderDomain: 10, global: 50 };
const FORGED = Number(process.env.FLOOD_MAILS ?? 200);
const KEY = { id: 'k1', secret: 'flood-test-signing-key-of-32-chars-min' };

function sesEvent(recipient: string, source: string, id: string, at: number): SESEvent {
  const event = JSON.parse(FIXTURE) as SESEvent;
  const ses = event.Records[0]!.ses;
  ses.receipt.recipients = [recipient];
  ses.mail.source = source;
  ses.mail.messageId = id;
  ses.mail.timestamp = new Date(at).toISOString();
  return event;
}

let dynamo: DynamoDbLocal;
let fake: FakeMailwizzServer;
beforeAll(async () => {
  [dynamo, fake] = await Promise.all([
    startDynamoDbLocal(),
    FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY }),
  ]);
});
afterAll(async () => {
  await Promise.all([dynamo?.stop(), fake?.close()]);
});

describe('fault matrix: forged unsubscribe flood', () => {
  it(`${FORGED} forged mails: real subscribers unchanged, real unsubscribes done, state bounded, then gone`, async () => {
    const list = fake.addList('News');
    const campaign = fake.addCampaign();
    const real = Array.from({ length: 20 }, (_, i) => fake.addSubscriber(list, `reader${i}@example.com`));
    const asking = real.slice(0, 3);
    let clock = T0;
    const table = await dynamo.newTable();
    const store = new DynamoDbSuppressionStore({ client: dynamo.documents, table, now: () => clock });
    const sent: Action[] = [];
    const deps = {
      settings: {
        domains: ['unsub.example.com'],
        scope: 'list' as const,
        router: createRouter([{ id: 'mw', type: 'mailwizz' }]),
        rateLimit: LIMITS,
      },
      store,
      rateCounter: createDynamoDbRateCounter(dynamo.documents, table),
      actions: { send: async (actions: readonly Action[]) => void sent.push(...actions) },
      metrics: createMemoryMetricSink(),
      log: { info: () => {}, warn: () => {}, error: () => {} },
      now: () => clock,
    };
    const provider = mailwizzProvider.create(
      mailwizzProvider.configSchema.parse({
        id: 'mw',
        type: 'mailwizz',
        url: fake.url,
        apiKey: API_KEY,
        maxRetries: 0,
      }),
      defaultProviderDeps(),
    );
    const providers = new Map([['mw', provider]]);
    const act = async () => {
      for (const action of sent.splice(0)) await runAction(action, providers, store, () => clock);
    };

    // The flood, 30 sender domains, the real unsubscribes spread through it. Deferred mail is
    // retried in the next window (SES retries; then the DLQ and a redrive).
    let pending = Array.from({ length: FORGED }, (_, i) => ({
      recipient: `${`f${i}`.padEnd(13, 'x')}.${list}.${campaign}@unsub.example.com`,
      source: `bot${i}@spam${i % 30}.example`,
      id: `forged-${i}`,
    }));
    for (const [n, uid] of asking.entries())
      pending.splice(n * Math.floor(FORGED / 3), 0, {
        recipient: `${uid}.${list}.${campaign}@unsub.example.com`,
        source: `reader${n}@example.com`,
        id: `real-${n}`,
      });
    let windows = 0;
    let mostItems = 0;
    while (pending.length > 0 && windows < 40) {
      const deferred: typeof pending = [];
      for (const mail of pending) {
        await handleInboundUnsubscribeEvent(
          sesEvent(mail.recipient, mail.source, mail.id, clock),
          deps,
        ).catch((error: unknown) => {
          if (!(error instanceof UnsubscribeDeferredError)) throw error;
          deferred.push(mail);
        });
      }
      await act();
      const items = await scanCount(table);
      mostItems = Math.max(mostItems, items);
      pending = deferred;
      windows += 1;
      clock += WINDOW_MS;
    }
    expect(pending).toEqual([]);
    console.log(
      `forged unsubscribe flood: ${FORGED} forged + ${asking.length} real mails, ${windows} windows of ` +
        `${WINDOW_MS / 60_000} min, ${deps.metrics.total('UnsubscribeRateLimited')} deferrals, ` +
        `at most ${mostItems} table items`,
    );

    // Real subscribers: exactly those who asked are unsubscribed; the others untouched.
    for (const uid of real)
      expect(fake.subscriber(uid)?.status, uid).toBe(asking.includes(uid) ? 'unsubscribed' : 'confirmed');
    // Bounded by the limits: per window at most `global` mails get in, each leaving its state, a
    // decision and a provider audit entry; plus two counters per sender domain and window.
    expect(mostItems).toBeLessThanOrEqual(LIMITS.global * windows * 3 + 2 * 31 * windows);
    // Past the expiry: nothing of the flood is visible; the real unsubscribes are permanent.
    clock += UNVERIFIED_TTL_MS + 1;
    for (let i = 0; i < FORGED; i += 97) {
      const status = await store.status(`ref:mailwizz:${list}:${`f${i}`.padEnd(13, 'x')}`);
      expect(status.suppressed).toBeUndefined();
      expect(status.audit).toEqual([]);
    }
    for (const uid of asking) {
      const status = await store.status(`ref:mailwizz:${list}:${uid}`);
      expect(status.suppressed?.providersDone).toEqual(['mw']);
      expect(status.suppressed?.expiresAt).toBeUndefined();
    }
    // Every item left is permanent (real subscribers) or would be deleted by the TTL by now.
    const live = (await scanAll(table)).filter(
      (i) => typeof i.expiresAt !== 'number' || i.expiresAt * 1000 > clock,
    );
    expect(live.filter((i) => !asking.some((uid) => String(i.pk).includes(uid)))).toEqual([]);
  }, 180_000);

  it('signing on: forged tags naming real subscribers write nothing, real signed mail works', async () => {
    const list = fake.addList('Deals');
    const campaign = fake.addCampaign();
    const victims = Array.from({ length: 5 }, (_, i) => fake.addSubscriber(list, `victim${i}@example.com`));
    const table = await dynamo.newTable();
    const store = new DynamoDbSuppressionStore({ client: dynamo.documents, table, now: () => T0 });
    const sent: Action[] = [];
    const deps = {
      settings: {
        domains: ['unsub.example.com'],
        scope: 'list' as const,
        router: createRouter([{ id: 'mw', type: 'mailwizz' }]),
        signing: { keys: [KEY], hmac: hmacSha256 },
        rateLimit: LIMITS,
      },
      store,
      rateCounter: createDynamoDbRateCounter(dynamo.documents, table),
      actions: { send: async (actions: readonly Action[]) => void sent.push(...actions) },
      metrics: createMemoryMetricSink(),
      log: { info: () => {}, warn: () => {}, error: () => {} },
      now: () => T0,
    };
    for (let i = 0; i < 200; i += 1) {
      const victim = victims[i % victims.length]!;
      const tag = `k1${'abcdefghijklmnopqrst'.slice(i % 20)}${'a'.repeat(i % 20)}`;
      const recipient = `${victim}.${list}.${campaign}.${tag}@unsub.example.com`;
      await handleInboundUnsubscribeEvent(sesEvent(recipient, `x@d${i}.example`, `s-${i}`, T0), deps);
    }
    expect(sent).toEqual([]);
    expect(await scanCount(table)).toBe(0);
    const signed = `${signUnsubscribeToken({ subscriberId: victims[0]!, listId: list, campaignId: campaign }, KEY, hmacSha256)}@unsub.example.com`;
    const summary = await handleInboundUnsubscribeEvent(sesEvent(signed, 'v@example.com', 'ok', T0), deps);
    expect(summary.accepted).toBe(1);
  });
});

async function scanAll(table: string): Promise<Array<Record<string, unknown>>> {
  const out: Array<Record<string, unknown>> = [];
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < 100; page += 1) {
    const got = await dynamo.documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    out.push(...((got.Items as Array<Record<string, unknown>> | undefined) ?? []));
    start = got.LastEvaluatedKey;
    if (!start) break;
  }
  return out;
}

async function scanCount(table: string): Promise<number> {
  return (await scanAll(table)).length;
}
