import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { providerBaseSchema } from '#core/config-schema.ts';
import { INITIAL_WINDOW } from '#providers/adaptive-window.ts';
import {
  MAILWIZZ_CONCURRENCY,
  mailwizzConfigSchema,
  mailwizzProvider,
} from '#providers/mailwizz/mailwizz.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { recordingDeps } from '#test/contract/list-provider-contract.ts';

const API_KEY = 'f00dfeedf00dfeedf00dfeedf00dfeedf00d0001';
const PRIVATE_KEY = 'f00dfeedf00dfeedf00dfeedf00dfeedf00d0002';
const ROOT = join(import.meta.dirname, '../../../../..');
const ctx = { actionId: 'act_1', kind: 'bounce' as const, reason: 'category=bad-mailbox' };

/** The MailWizz provider against `server`, with these settings beside id, url and API key. */
function providerFor(server: FakeMailwizzServer, settings: Record<string, unknown>) {
  const config = mailwizzConfigSchema.parse({
    id: 'mw',
    type: 'mailwizz',
    url: server.url,
    apiKey: API_KEY,
    ...settings,
  });
  return mailwizzProvider.create(config, recordingDeps());
}

let fake: FakeMailwizzServer | undefined;
afterEach(() => fake?.close());

describe('MailWizz requests in flight', () => {
  it('defaults to the concurrency the docs state (MailWizz 16, the others 4)', () => {
    const parsed = mailwizzConfigSchema.parse({
      id: 'mw',
      type: 'mailwizz',
      url: 'https://mw.example.com/api',
      apiKey: 'k',
    });
    const base = providerBaseSchema.parse({ id: 'x', type: 'webhook' }).concurrency;
    expect(parsed.concurrency).toBe(MAILWIZZ_CONCURRENCY);
    expect(MAILWIZZ_CONCURRENCY).toBe(16);
    const providers = readFileSync(join(ROOT, 'docs/providers.md'), 'utf8');
    const row = providers.split('\n').find((l) => l.startsWith('| `concurrency`'));
    expect(row).toContain(`| ${base} (MailWizz: ${MAILWIZZ_CONCURRENCY}) |`);
    expect(providers).toContain(`concurrency: ${MAILWIZZ_CONCURRENCY} # the default for MailWizz`);
    expect(providers).toContain(`starts at ${INITIAL_WINDOW} (or at \`concurrency\``);
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`| ${base} (MailWizz ${MAILWIZZ_CONCURRENCY}), none, 10000, 4 |`);
  });

  it('with the defaults: opens the window to 16 and no further, on at most 16 connections, 2 calls per address', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v1', apiKey: API_KEY, privateKey: PRIVATE_KEY });
    // Long enough that timer and event-loop jitter on a busy machine cannot look like queueing.
    fake.http.latencyMs = 60;
    const lists = [fake.addList(), fake.addList()];
    const emails = Array.from({ length: 64 }, (_, i) => `burst${i}@example.com`);
    for (const email of emails) for (const list of lists) fake.addSubscriber(list, email);
    const provider = providerFor(fake, { privateKey: PRIVATE_KEY });
    const results = await Promise.all(emails.map((e) => provider.unsubscribeEverywhere(e, ctx)));
    expect(results.every((r) => r.calls === 2 && r.lists.every((l) => l.outcome === 'done'))).toBe(true);
    expect(fake.subscribers.every((s) => s.status === 'unsubscribed')).toBe(true);
    expect(fake.http.maxInFlight()).toBe(16);
    expect(fake.http.connectionsOpened()).toBeLessThanOrEqual(16);
  });

  it('keeps the window at or under a lower concurrency, and retries through a burst of 503s', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    fake.http.latencyMs = 10;
    const list = fake.addList();
    const emails = Array.from({ length: 40 }, (_, i) => `slow${i}@example.com`);
    for (const email of emails) fake.addSubscriber(list, email);
    fake.http.inject({ status: 503, times: 6 });
    const provider = providerFor(fake, { concurrency: 3 });
    const results = await Promise.all(emails.map((e) => provider.unsubscribeEverywhere(e, ctx)));
    expect(results.every((r) => r.lists.every((l) => l.outcome === 'done'))).toBe(true);
    expect(fake.http.maxInFlight()).toBeLessThanOrEqual(3);
    expect(fake.http.totalRequests()).toBe(40 * 2 + 6);
  });
});
