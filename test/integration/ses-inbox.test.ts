/**
 * The sandbox's SES inbox: `.eml` files in a directory → real-shaped SES receipt events → the unsub
 * logic → actions on a fauxqs queue; files move to done/ (or failed/).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { SESEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { createSqsActionSender } from '#adapters/sqs/sqs-action-queue.ts';
import { createRouter } from '#core/decide/routing.ts';
import { handleInboundUnsubscribeEvent } from '#lambda/unsub/unsub.ts';
import { createSesInboxPoller, sesEventFromMail } from '#sandbox/ses-inbox.ts';
import { MemorySuppressionStore } from '#test/support/memory-suppression-store.ts';
import { type SqsServer, startSqsServer } from '#test/support/sqs-server.ts';

const MAIL = readFileSync(
  new URL('../fixtures/eml/icloud-mailto-unsubscribe-mailwizz.eml', import.meta.url),
  'utf8',
);
const ICLOUD = readFileSync(new URL('../fixtures/eml/sisimai-arf-26.eml', import.meta.url), 'utf8');
const TO = 'ab12cd34ef567.lq981kz0aa2bc.cmp00000000zz@unsub.example.com';

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-inbox-'));
let sqsServer: SqsServer;
beforeAll(async () => {
  sqsServer = await startSqsServer();
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await sqsServer?.stop();
});

describe('sesEventFromMail', () => {
  it('builds a SES receipt event with commonHeaders and PASS verdicts', () => {
    const event = sesEventFromMail(MAIL, { messageId: 'm1', receivedAt: Date.UTC(2024, 4, 2) });
    const { mail, receipt } = event.Records[0]!.ses;
    expect(event.Records[0]!.eventSource).toBe('aws:ses');
    expect(mail).toMatchObject({
      messageId: 'm1',
      source: 'example@icloud.com',
      destination: [TO],
      headersTruncated: false,
      commonHeaders: {
        from: ['example@icloud.com'],
        to: [TO],
        subject: 'unsubscribe',
        messageId: '<898B6152-36BC-4F4B-ABF8-2694A88CB5FC@icloud.com>',
      },
    });
    expect(receipt.recipients).toEqual([TO]);
    expect(receipt.spamVerdict.status).toBe('PASS');
    expect(receipt.action.type).toBe('Lambda');
  });

  it('sandbox headers set verdicts and envelope recipients; recipientDomains acts as the rule', () => {
    const text = `X-Sandbox-Spam-Verdict: fail\nX-Sandbox-Virus-Verdict: GRAY\nX-Sandbox-Envelope-To: ${TO}, a@other.example\n${MAIL}`;
    const event = sesEventFromMail(text, {
      messageId: 'm2',
      receivedAt: 0,
      recipientDomains: ['UNSUB.example.com'],
    });
    const { mail, receipt } = event.Records[0]!.ses;
    expect(mail.destination).toEqual([TO, 'a@other.example']);
    expect(receipt.recipients).toEqual([TO]);
    expect(receipt.spamVerdict.status).toBe('FAIL');
    expect(receipt.virusVerdict.status).toBe('GRAY');
  });
});

describe('createSesInboxPoller', () => {
  it('feeds each .eml to the handler once and moves it to done/', async () => {
    const queueUrl = await sqsServer.createQueue('inbox-actions');
    const store = new MemorySuppressionStore();
    const deps = {
      settings: {
        domains: ['unsub.example.com'],
        scope: 'list' as const,
        router: createRouter([{ id: 'mw', type: 'mailwizz' }]),
      },
      store,
      actions: createSqsActionSender(sqsServer.client(), queueUrl),
      metrics: createMemoryMetricSink(),
      log: { info() {}, warn() {}, error() {} },
      now: () => 1,
    };
    const events: SESEvent[] = [];
    const logLines: string[] = [];
    const poller = createSesInboxPoller({
      dir,
      settleMs: 0,
      log: (l) => logLines.push(l),
      handler: async (event) => {
        events.push(event);
        return handleInboundUnsubscribeEvent(event, deps);
      },
    });
    writeFileSync(join(dir, '1-good.eml'), MAIL);
    writeFileSync(
      join(dir, '2-spam.eml'),
      `X-Sandbox-Spam-Verdict: FAIL\n${MAIL.replace('ab12cd34ef567', 'zz12cd34ef567')}`,
    );
    writeFileSync(join(dir, '3-icloud-sample.eml'), ICLOUD);
    writeFileSync(join(dir, 'notes.txt'), 'not a mail');

    expect(await poller.pollOnce()).toEqual({ processed: 3, failed: 0 });
    expect(events).toHaveLength(3);
    for (const name of ['1-good.eml', '2-spam.eml', '3-icloud-sample.eml']) {
      expect(existsSync(join(dir, 'done', name))).toBe(true);
      expect(existsSync(join(dir, name))).toBe(false);
    }
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
    // Only the PASS mail to our address format became an action.
    const got = await sqsServer
      .client()
      .send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
    expect((got.Messages ?? []).map((m) => JSON.parse(m.Body!).subject)).toEqual([
      'ref:mailwizz:lq981kz0aa2bc:ab12cd34ef567',
    ]);
    expect(await poller.pollOnce()).toEqual({ processed: 0, failed: 0 });
    await poller.stop();
  });

  it('a handler error moves the file to failed/; a file still being written waits', async () => {
    const sub = mkdtempSync(join(dir, 'errors-'));
    const poller = createSesInboxPoller({
      dir: sub,
      settleMs: 60_000,
      now: () => Date.now(),
      handler: async () => {
        throw new Error('queue down');
      },
    });
    writeFileSync(join(sub, 'fresh.eml'), MAIL);
    expect(await poller.pollOnce()).toEqual({ processed: 0, failed: 0 });
    const old = (Date.now() - 120_000) / 1000;
    utimesSync(join(sub, 'fresh.eml'), old, old);
    expect(await poller.pollOnce()).toEqual({ processed: 0, failed: 1 });
    expect(existsSync(join(sub, 'failed', 'fresh.eml'))).toBe(true);
    await poller.stop();
  });

  it('start/stop polls on an interval', async () => {
    const sub = mkdtempSync(join(dir, 'timer-'));
    let calls = 0;
    const poller = createSesInboxPoller({
      dir: sub,
      settleMs: 0,
      intervalMs: 20,
      handler: async () => {
        calls += 1;
      },
    });
    poller.start();
    writeFileSync(join(sub, 'a.eml'), MAIL);
    for (let i = 0; i < 100 && calls === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    await poller.stop();
    expect(calls).toBe(1);
  });
});
