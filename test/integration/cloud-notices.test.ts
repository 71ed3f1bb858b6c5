/**
 * Postmaster notices on the cloud path: the real ingest and act handler modules (fauxqs + dynalite
 * + fake MailWizz, with `notify` configured) record a notice for a complaint they act on and for a
 * provider that never recovers; the digest logic then mails both in ONE digest through the fake
 * SES v2 server. Its own file: the handler modules read their environment (the config) once.
 */

import { SESv2Client } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbNoticeStore } from '#adapters/dynamodb/dynamodb-notice-store.ts';
import { createSesV2DigestMailer } from '#adapters/ses/sesv2-digest-mailer.ts';
import { sendPostmasterDigests } from '#lambda/notify/notify.ts';
import type { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { type FakeSesV2Server, startFakeSesV2Server } from '#sandbox/fakes/fake-sesv2-server.ts';
import type { Sandbox } from '#sandbox/runtime.ts';
import { ACCT_HEADER, bounceRecord } from '#test/support/builders.ts';
import { type CloudSandbox, startCloudSandbox } from '#test/support/cloud-sandbox.ts';

const NOTIFY = { to: 'postmaster@example.com', from: 'bounces@example.com', digestMinutes: 5 };
const F_HEADER = 'type,timeLogged,orig,rcpt,feedbackType';
const MAX_RECEIVES = 2;

let cloud: CloudSandbox;
let fake: FakeMailwizzServer;
let ses: FakeSesV2Server;
let sesClient: SESv2Client;
let sandbox: Sandbox;
let notices: DynamoDbNoticeStore;

const hardBounce = (rcpt: string): string =>
  bounceRecord({
    rcpt,
    at: Date.UTC(2026, 10, 20, 12, 0, 0),
    diag: '"smtp;550 5.1.1 no such user"',
    job: 'job-n',
    envId: 'env-n',
  });

const ship = (lines: string[], header: string) => cloud.ship(lines, header);
const until = (what: string, check: () => boolean | Promise<boolean>, ms?: number) =>
  cloud.until(what, check, ms);
const queueDepth = (url: string) => cloud.queueDepth(url);
const settled = () => cloud.settled();

beforeAll(async () => {
  ses = await startFakeSesV2Server();
  sesClient = new SESv2Client({
    region: 'us-east-1',
    endpoint: ses.endpoint,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  cloud = await startCloudSandbox({
    keyEnv: 'IT_NOTICE_MAILWIZZ_KEY',
    apiKey: 'mw-notice-key-0123456789',
    config: { notify: NOTIFY },
    tuning: { maxReceiveCount: MAX_RECEIVES, retryBaseSeconds: 1, retryMaxSeconds: 1 },
    stream: 'notice-stream',
  });
  ({ fake, sandbox } = cloud);
  notices = new DynamoDbNoticeStore({ client: cloud.documents, table: sandbox.context.table });
});

afterAll(async () => {
  await cloud?.stop();
  sesClient?.destroy();
  await ses?.close();
});

describe('postmaster notices from the cloud path', () => {
  it('a complaint → one pending notice (a replay adds none)', async () => {
    const list = fake.addList('News');
    const sub = fake.addSubscriber(list, 'complainer@example.org');
    const line = 'f,2026-11-20 11:00:00+0000,news@example.com,complainer@example.org,abuse';
    await ship([line], F_HEADER);
    await until('complaint unsubscribed', () => fake.subscriber(sub)?.status === 'unsubscribed');
    await until('queues drained', settled);
    await ship([line], F_HEADER); // a shipper resend
    await until('queues drained', settled);
    const pending = await notices.pending(10);
    expect(pending).toHaveLength(1);
    expect(pending[0]).toMatchObject({
      kind: 'complaint',
      subject: 'complainer@example.org',
      category: 'abuse',
    });
  });

  it('a provider that never recovers → a failed-action notice once the action is parked', async () => {
    const list = fake.addList('Down');
    const sub = fake.addSubscriber(list, 'down@example.org');
    fake.http.inject({ status: 503, times: MAX_RECEIVES });
    await ship([hardBounce('down@example.org')], ACCT_HEADER);
    await until(
      'action in the DLQ',
      async () => (await queueDepth(sandbox.context.actions.dlqUrl)) === 1,
      25_000,
    );
    expect(fake.subscriber(sub)?.status).toBe('confirmed');
    const failed = (await notices.pending(10)).filter((n) => n.kind === 'action-failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ subject: 'down@example.org', provider: 'mw' });
    expect(failed[0]?.detail).toMatch(/503/);
  });

  it('the digest logic mails both in ONE digest and clears them', async () => {
    const before = ses.sent.length;
    const summary = await sendPostmasterDigests({
      store: notices,
      mailer: createSesV2DigestMailer(sesClient),
      notify: NOTIFY,
      log: { info() {}, warn() {}, error() {} },
      now: () => Date.now(),
    });
    expect(summary).toEqual({ digests: 1, notices: 2 });
    expect(ses.problems).toEqual([]);
    expect(ses.sent.length - before).toBe(1);
    const mail = ses.sent.at(-1)!;
    expect(mail).toMatchObject({ from: NOTIFY.from, to: [NOTIFY.to] });
    expect(mail.subject).toMatch(/1 complaint, 1 failed action/);
    expect(mail.text).toContain('complainer@example.org');
    expect(mail.text).toContain('down@example.org');
    expect(await notices.pending(10)).toEqual([]);
  });
});
