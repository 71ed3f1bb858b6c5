/**
 * notify: notices recorded by producers (recordNotice) in dynalite → one digest through a fake
 * SES v2 endpoint → the sent notices are gone.
 */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbNoticeStore, recordNotice } from '#adapters/dynamodb/dynamodb-notice-store.ts';
import { createSesV2DigestMailer } from '#adapters/ses/sesv2-digest-mailer.ts';
import type { PostmasterNotice } from '#core/ports.ts';
import { ENV } from '#lambda/env.ts';
import { sendPostmasterDigests } from '#lambda/notify/notify.ts';
import { NOTIFY_ENV } from '#lambda/wiring.ts';
import { type FakeSesV2Server, startFakeSesV2Server } from '#sandbox/fakes/fake-sesv2-server.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';

const NOW = Date.UTC(2026, 10, 2, 12, 0, 0);
const NOTIFY = { to: 'postmaster@example.com', from: 'bounces@example.com' };

let dynamo: DynamoDbLocal;
let ses: FakeSesV2Server;
let sesClient: SESv2Client;

beforeAll(async () => {
  [dynamo, ses] = await Promise.all([startDynamoDbLocal(), startFakeSesV2Server()]);
  sesClient = new SESv2Client({
    region: 'us-east-1',
    endpoint: ses.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});
afterAll(async () => {
  sesClient?.destroy();
  await Promise.all([dynamo?.stop(), ses?.close()]);
});

const silent = { info() {}, warn() {}, error() {} };

function notice(i: number, extra: Partial<PostmasterNotice> = {}): PostmasterNotice {
  return {
    id: `complaint:k${i}`,
    kind: i % 2 ? 'complaint' : 'action-failed',
    at: NOW - 60_000 * (10 - i),
    subject: `user${i}@example.com`,
    reason: 'complaint feedbackType=abuse: unsubscribe',
    ...extra,
  };
}

async function setup() {
  const table = await dynamo.newTable();
  const store = new DynamoDbNoticeStore({ client: dynamo.documents, table, now: () => NOW });
  const deps = {
    store,
    mailer: createSesV2DigestMailer(sesClient),
    notify: NOTIFY,
    log: silent,
    now: () => NOW,
  };
  return { table, store, deps };
}

describe('postmaster digest', () => {
  it('pending notices → exactly one digest send → sent notices removed', async () => {
    const t = await setup();
    const before = ses.sent.length;
    const hostile = notice(3, {
      id: 'complaint:evil',
      subject: 'x"<b>\r\nBcc: evil@example.net',
      detail: "=cmd|' /C calc'!A0",
    });
    await recordNotice(dynamo.documents, t.table, [notice(1), notice(2), hostile]);
    await recordNotice(dynamo.documents, t.table, notice(1)); // a replayed producer: one notice
    expect(await t.store.pending(10)).toHaveLength(3);

    const summary = await sendPostmasterDigests(t.deps);
    expect(summary).toEqual({ digests: 1, notices: 3 });
    expect(ses.problems).toEqual([]);
    expect(ses.sent.length - before).toBe(1);
    const mail = ses.sent.at(-1)!;
    expect(mail).toMatchObject({ from: NOTIFY.from, to: [NOTIFY.to], charset: 'UTF-8' });
    expect(mail.subject).toBe('[pmta-bounce] 2 complaints, 1 failed action (2026-11-02T12:00Z)');
    expect(mail.text).toContain('user1@example.com');
    expect(mail.text).toContain('x"<b>\\r\\nBcc: evil@example.net');
    expect(mail.text).toContain("detail: '=cmd|' /C calc'!A0");
    expect(mail.html).toContain('x&quot;&lt;b&gt;\\r\\nBcc: evil@example.net');
    expect(mail.html).not.toContain('<b>');

    expect(await t.store.pending(10)).toEqual([]);
    // Nothing pending: no mail at all.
    expect(await sendPostmasterDigests(t.deps)).toEqual({ digests: 0, notices: 0 });
    expect(ses.sent.length - before).toBe(1);
  });

  it('a refused send removes nothing; the next run sends it', async () => {
    const t = await setup();
    await recordNotice(dynamo.documents, t.table, notice(1));
    ses.reject(1);
    await expect(sendPostmasterDigests(t.deps)).rejects.toThrow(/not verified/);
    expect(await t.store.pending(10)).toHaveLength(1);
    expect(await sendPostmasterDigests(t.deps)).toEqual({ digests: 1, notices: 1 });
    expect(await t.store.pending(10)).toEqual([]);
  });

  it('many notices: bounded digests of maxPerDigest, oldest first, the rest left for later', async () => {
    const t = await setup();
    const before = ses.sent.length;
    await recordNotice(
      dynamo.documents,
      t.table,
      Array.from({ length: 60 }, (_, i) => notice(i, { id: `n${i}`, at: NOW - 100_000 + i })),
    );
    const summary = await sendPostmasterDigests({ ...t.deps, maxPerDigest: 25, maxDigests: 2 });
    expect(summary).toEqual({ digests: 2, notices: 50 });
    expect(ses.sent.length - before).toBe(2);
    expect(ses.sent.at(-1)!.text).toMatch(/follow in the next digest/);
    const left = await t.store.pending(100);
    expect(left.map((n) => n.id)).toEqual(Array.from({ length: 10 }, (_, i) => `n${50 + i}`));
  });

  it('without notify configured nothing is sent or removed', async () => {
    const t = await setup();
    await recordNotice(dynamo.documents, t.table, notice(1));
    expect(await sendPostmasterDigests({ ...t.deps, notify: undefined })).toEqual({ digests: 0, notices: 0 });
    expect(await t.store.pending(10)).toHaveLength(1);
  });

  it('the handler module sends from its environment', async () => {
    const table = await dynamo.newTable();
    await recordNotice(dynamo.documents, table, notice(1));
    const before = ses.sent.length;
    const env = {
      [ENV.CONFIG_JSON]: JSON.stringify({ notify: { ...NOTIFY, digestMinutes: 5 } }),
      [ENV.TABLE_NAME]: table,
      [ENV.DYNAMODB_ENDPOINT]: dynamo.server.endpoint,
      [NOTIFY_ENV.SES_ENDPOINT]: ses.endpoint,
      AWS_REGION: 'us-east-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    try {
      vi.resetModules();
      const { handler } = await import('#lambda/notify/handler.ts');
      const summary = await handler({}, {} as never);
      expect(summary).toEqual({ digests: 1, notices: 1 });
      expect(ses.sent.length - before).toBe(1);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
