/**
 * The one-click page as a person uses it, in headless Chromium against the real `pmta-bounce serve`
 * and the MailWizz fake: the page loads with no script and nothing fetched from elsewhere, its one
 * button is reachable by role and name, and clicking it unsubscribes. Screenshots are kept in
 * test-artifacts/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { chromiumMissing, launchChromium } from '#test/support/chromium.ts';
import { eventually, type ServeRun, spawnServe } from '#test/support/serve-process.ts';

const ROOT = join(import.meta.dirname, '../..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const API_KEY = 'f'.repeat(40);
const KEY = { id: 'k1', secret: 'q'.repeat(48) };
const missing = chromiumMissing();
// CI installs chromium (.ci/run): there the browser test must run, never skip.
if (missing && process.env.CI) throw new Error(missing);

describe.skipIf(Boolean(missing))('one-click page in Chromium', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmta-one-click-page-'));
  let fake: FakeMailwizzServer;
  let serve: ServeRun;
  let browser: Browser;

  beforeAll(async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        'providers:',
        `  - { id: mw, type: mailwizz, url: "${fake.url}", apiKey: "${API_KEY}", maxRetries: 0 }`,
        'unsubscribe:',
        `  signing: { keys: [ { id: ${KEY.id}, secret: "${KEY.secret}" } ] }`,
        `  oneClick: { listNames: { "*": "the Example Weekly" } }`,
        '',
      ].join('\n'),
    );
    serve = await spawnServe(['--config', config, '--state', join(dir, 'state.db')], {});
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await serve?.stop();
    await fake?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows one labelled button; clicking it unsubscribes', async () => {
    const list = fake.addList('Weekly');
    const subscriber = fake.addSubscriber(list, 'reader@example.com');
    const ids = { subscriberId: subscriber, listId: list, campaignId: fake.addCampaign() };
    const url = `${serve.url}/u/${signUnsubscribeToken(ids, KEY, hmacSha256)}`;
    const page = await browser.newPage({ javaScriptEnabled: false });
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(url);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('h1').textContent()).toBe('Unsubscribe');
    expect(await page.locator('main').textContent()).toContain('the Example Weekly');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'one-click-page.png') });
    // Loading the page (as a scanner would) changed nothing.
    expect(fake.subscriber(subscriber)?.status).toBe('confirmed');
    await page.getByRole('button', { name: 'Unsubscribe' }).click();
    await page.waitForSelector('text=You are unsubscribed');
    await page.screenshot({ path: join(ARTIFACTS, 'one-click-done.png') });
    expect(await eventually(() => fake.subscriber(subscriber)?.status === 'unsubscribed')).toBe(true);
    // Only our own origin was ever asked for anything.
    expect(requested.every((u) => u.startsWith(serve.url))).toBe(true);
    await page.close();
  }, 60_000);
});
