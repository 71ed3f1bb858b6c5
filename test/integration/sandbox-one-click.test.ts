/**
 * The whole cloud one-click path on this machine: an HTTP POST to the sandbox's one-click server →
 * the unsub-http handler module (as its Function URL would invoke it) → DynamoDB (dynalite) and the
 * actions queue (fauxqs) → the act handler → the MailWizz fake. GET changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { oneClickExtension } from '#sandbox/one-click-extension.ts';
import { type Sandbox, startSandbox } from '#sandbox/runtime.ts';
import { eventually } from '#test/support/serve-process.ts';

const API_KEY = 'mw-test-key-0123456789';
const errors: string[] = [];
const logs: string[] = [];
let fake: FakeMailwizzServer;
let sandbox: Sandbox;
let url = '';

beforeAll(async () => {
  fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
  process.env.IT_ONE_CLICK_MAILWIZZ_KEY = API_KEY;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  sandbox = await startSandbox({
    configDocument: {
      providers: [
        {
          id: 'mw',
          type: 'mailwizz',
          url: fake.url,
          apiKey: '${IT_ONE_CLICK_MAILWIZZ_KEY}',
          maxRetries: 0,
          timeoutMs: 2000,
        },
      ],
    },
    visibilityTimeoutSeconds: 1,
    extraPollers: [
      (context) =>
        oneClickExtension.create({ 'one-click': '127.0.0.1:0' }, context, (l) => logs.push(l)) ?? {
          start() {},
          stop: async () => {},
        },
    ],
    onError: (source, error) =>
      errors.push(`${source}: ${error instanceof Error ? error.message : String(error)}`),
  });
  await eventually(() => logs.some((l) => l.startsWith('one-click:')));
  url = /http:\/\/127\.0\.0\.1:\d+/.exec(logs.find((l) => l.startsWith('one-click:')) ?? '')?.[0] ?? '';
}, 60_000);
afterAll(async () => {
  await sandbox?.stop();
  await fake?.close();
});

describe('sandbox --one-click', () => {
  it('GET shows the page and changes nothing; POST one-click unsubscribes through act, once', async () => {
    expect(url).not.toBe('');
    const list = fake.addList('News');
    const subscriber = fake.addSubscriber(list, 'cloud.reader@example.com');
    const link = `${url}/u/${subscriber}.${list}.${fake.addCampaign()}`;
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('List-Unsubscribe');
    await new Promise((r) => setTimeout(r, 1500));
    expect(fake.subscriber(subscriber)?.status).toBe('confirmed');
    const post = await fetch(link, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(post.status).toBe(200);
    expect(await eventually(() => fake.subscriber(subscriber)?.status === 'unsubscribed', 20_000)).toBe(true);
    expect(errors).toEqual([]);
  }, 40_000);
});
