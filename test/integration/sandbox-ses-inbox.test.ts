/**
 * The whole cloud unsubscribe path on this machine: an .eml dropped in the sandbox's SES inbox →
 * the unsub handler module → actions queue (fauxqs) → the act handler → the MailWizz fake.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { type Sandbox, startSandbox } from '#sandbox/runtime.ts';
import { sesInboxExtension } from '#sandbox/ses-inbox-extension.ts';

const API_KEY = 'mw-test-key-0123456789';
const MAIL = readFileSync(
  new URL('../fixtures/eml/icloud-mailto-unsubscribe-mailwizz.eml', import.meta.url),
  'utf8',
);
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-sandbox-inbox-'));
const errors: string[] = [];
const logs: string[] = [];
let fake: FakeMailwizzServer;
let sandbox: Sandbox;

beforeAll(async () => {
  fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
  process.env.IT_UNSUB_MAILWIZZ_KEY = API_KEY;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  sandbox = await startSandbox({
    configDocument: {
      providers: [
        {
          id: 'mw',
          type: 'mailwizz',
          url: fake.url,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a config placeholder, expanded by the act handler
          apiKey: '${IT_UNSUB_MAILWIZZ_KEY}',
          maxRetries: 0,
          timeoutMs: 2000,
        },
      ],
      unsubscribe: { domains: ['unsub.example.com'] },
    },
    visibilityTimeoutSeconds: 1,
    extraPollers: [
      (context) =>
        sesInboxExtension.create({ 'ses-inbox': dir }, context, (l) => logs.push(l)) ?? {
          start() {},
          stop: async () => {},
        },
    ],
    onError: (source, error) =>
      errors.push(`${source}: ${error instanceof Error ? error.message : String(error)}`),
  });
});
afterAll(async () => {
  await sandbox?.stop();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out; logs: ${logs.join(' | ')}; errors: ${errors.join(' | ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
    await until(() => fake.subscriber(subscriber)?.status === 'unsubscribed');
    await until(() => existsSync(join(dir, 'done', 'spam.eml')) && existsSync(join(dir, 'done', 'good.eml')));
    expect(fake.subscriber(other)?.status).toBe('confirmed');
    expect(fake.subscriber(spamSub)?.status).toBe('confirmed');
    expect(errors).toEqual([]);
  });
});
