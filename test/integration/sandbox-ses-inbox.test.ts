/**
 * The whole cloud unsubscribe path on this machine: an .eml dropped in the sandbox's SES inbox →
 * the unsub handler module → actions queue (fauxqs) → the act handler → the MailWizz fake.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { sesInboxExtension } from '#sandbox/ses-inbox-extension.ts';
import { type CloudSandbox, startCloudSandbox } from '#test/support/cloud-sandbox.ts';

const MAIL = readFileSync(
  new URL('../fixtures/eml/icloud-mailto-unsubscribe-mailwizz.eml', import.meta.url),
  'utf8',
);
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-sandbox-inbox-'));
const logs: string[] = [];
let cloud: CloudSandbox;
let fake: FakeMailwizzServer;

beforeAll(async () => {
  cloud = await startCloudSandbox({
    keyEnv: 'IT_UNSUB_MAILWIZZ_KEY',
    apiKey: 'mw-test-key-0123456789',
    config: { unsubscribe: { domains: ['unsub.example.com'] } },
    extraPollers: [
      (context) =>
        sesInboxExtension.create({ 'ses-inbox': dir }, context, (l) => logs.push(l)) ?? {
          start() {},
          stop: async () => {},
        },
    ],
    diagnostics: () => `logs: ${logs.join(' | ')}`,
  });
  fake = cloud.fake;
});
afterAll(async () => {
  await cloud?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const until = (what: string, check: () => boolean) => cloud.until(what, check);

describe('sandbox --ses-inbox', () => {
  it('an unsubscribe mail in the inbox unsubscribes that one subscription at MailWizz', async () => {
    const list = fake.addList('News');
    const subscriber = fake.addSubscriber(list, 'jane@example.com');
    const other = fake.addSubscriber(fake.addList('Deals'), 'jane@example.com');
    const campaign = fake.addCampaign();
    const to = `${subscriber}.${list}.${campaign}@unsub.example.com`;
    writeFileSync(join(dir, 'good.eml'), MAIL.replace(/^To: .*$/m, `To: ${to}`));
    // Same subscriber, but SES says spam: must change nothing.
    const spamSub = fake.addSubscriber(list, 'spam@example.com');
    writeFileSync(
      join(dir, 'spam.eml'),
      `X-Sandbox-Spam-Verdict: FAIL\n${MAIL.replace(/^To: .*$/m, `To: ${spamSub}.${list}.${campaign}@unsub.example.com`)}`,
    );
    await until('the good mail unsubscribes', () => fake.subscriber(subscriber)?.status === 'unsubscribed');
    await until(
      'both mails done',
      () => existsSync(join(dir, 'done', 'spam.eml')) && existsSync(join(dir, 'done', 'good.eml')),
    );
    expect(fake.subscriber(other)?.status).toBe('confirmed');
    expect(fake.subscriber(spamSub)?.status).toBe('confirmed');
    expect(cloud.errors).toEqual([]);
  });
});
