/**
 * Every provider adapter, with the canary as its credential, through success, refused credentials,
 * 5xx until retries run out, and a timeout: the canary is in no log event, no result, no error
 * (message, stack, cause, own fields) and no credential-check detail.
 */
import { inspect } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import type { ListProvider } from '#core/ports.ts';
import { interspireProvider } from '#providers/interspire/interspire.ts';
import { listmonkProvider } from '#providers/listmonk/listmonk.ts';
import { mailwizzProvider } from '#providers/mailwizz/mailwizz.ts';
import { mauticProvider } from '#providers/mautic/mautic.ts';
import { webhookProvider } from '#providers/webhook/webhook.ts';
import type { FakeServer } from '#sandbox/fakes/fake-http-server.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { FakeListmonkServer } from '#sandbox/fakes/fake-listmonk-server.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeMauticServer } from '#sandbox/fakes/fake-mautic-server.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { recordingDeps } from '#test/contract/list-provider-contract.ts';
import { CANARY, expectNoCanary, safeJson } from './canary.ts';

/** The other side's idea of the credential when ours must be refused (not the canary). */
const OTHER_KEY = 'OtherKey0000000000000000000000';
const EMAIL = 'gone@example.com';
const ctx = { actionId: 'act_canary', kind: 'bounce' as const, reason: 'category=bad-mailbox' };

interface Harness {
  provider(deps: ReturnType<typeof recordingDeps>, tuning: Record<string, number>): ListProvider;
  http: FakeServer;
  close(): Promise<void>;
}

type Scenario = 'success' | 'auth' | '5xx' | 'timeout';

async function listmonkHarness(scenario: Scenario, extra: Record<string, string>): Promise<Harness> {
  const fake = await FakeListmonkServer.start({
    username: 'api',
    token: scenario === 'auth' ? OTHER_KEY : CANARY,
  });
  fake.subscribe(EMAIL, fake.addList());
  const config = { id: 'lm', type: 'listmonk', url: fake.url, username: 'api', token: CANARY, ...extra };
  return {
    http: fake.http,
    close: () => fake.close(),
    provider: (deps, tuning) =>
      listmonkProvider.create(listmonkProvider.configSchema.parse({ ...config, ...tuning }), deps),
  };
}

/** Mautic with OAuth2 (`clientId`/`clientSecret`) or BasicAuth (`username`/`password`). */
async function mauticHarness(scenario: Scenario, idKey: string, secretKey: string): Promise<Harness> {
  const fake = await FakeMauticServer.start({
    [idKey]: 'api',
    [secretKey]: scenario === 'auth' ? OTHER_KEY : CANARY,
  });
  fake.addContact(EMAIL, fake.addSegment());
  const config = { id: 'mautic', type: 'mautic', url: fake.url, [idKey]: 'api', [secretKey]: CANARY };
  return {
    http: fake.http,
    close: () => fake.close(),
    provider: (deps, tuning) =>
      mauticProvider.create(mauticProvider.configSchema.parse({ ...config, ...tuning }), deps),
  };
}

/** Starts the fake; it expects the canary unless the scenario is a refused credential. */
const HARNESSES: Record<string, (scenario: Scenario) => Promise<Harness>> = {
  'mailwizz v2': async (scenario) => {
    const fake = await FakeMailwizzServer.start({
      mode: 'v2',
      apiKey: scenario === 'auth' ? OTHER_KEY : CANARY,
    });
    fake.addSubscriber(fake.addList(), EMAIL);
    return {
      http: fake.http,
      close: () => fake.close(),
      provider: (deps, tuning) =>
        mailwizzProvider.create(
          mailwizzProvider.configSchema.parse({
            id: 'mw',
            type: 'mailwizz',
            url: fake.url,
            apiKey: CANARY,
            ...tuning,
          }),
          deps,
        ),
    };
  },
  'mailwizz v1 (signed)': async (scenario) => {
    const fake = await FakeMailwizzServer.start({
      mode: 'v1',
      apiKey: CANARY,
      privateKey: scenario === 'auth' ? OTHER_KEY : CANARY,
    });
    fake.addSubscriber(fake.addList(), EMAIL);
    return {
      http: fake.http,
      close: () => fake.close(),
      provider: (deps, tuning) =>
        mailwizzProvider.create(
          mailwizzProvider.configSchema.parse({
            id: 'mw1',
            type: 'mailwizz',
            url: fake.url,
            apiKey: CANARY,
            privateKey: CANARY,
            ...tuning,
          }),
          deps,
        ),
    };
  },
  interspire: async (scenario) => {
    const fake = await FakeInterspireServer.start({
      username: 'admin',
      token: scenario === 'auth' ? OTHER_KEY : CANARY,
    });
    fake.addSubscriber(fake.addList(), EMAIL);
    return {
      http: fake.http,
      close: () => fake.close(),
      provider: (deps, tuning) =>
        interspireProvider.create(
          interspireProvider.configSchema.parse({
            id: 'iem',
            type: 'interspire',
            url: fake.url,
            username: 'admin',
            token: CANARY,
            ...tuning,
          }),
          deps,
        ),
    };
  },
  'listmonk (bounce webhook, token header)': (scenario) => listmonkHarness(scenario, { auth: 'token' }),
  'listmonk (subscribers API, BasicAuth)': (scenario) => listmonkHarness(scenario, { mode: 'unsubscribe' }),
  'mautic (OAuth2)': (scenario) => mauticHarness(scenario, 'clientId', 'clientSecret'),
  'mautic (BasicAuth)': (scenario) => mauticHarness(scenario, 'username', 'password'),
  webhook: async (scenario) => {
    const fake = await FakeWebhookServer.start({
      secret: `whsec_${scenario === 'auth' ? OTHER_KEY : CANARY}`,
    });
    fake.subscribe(EMAIL);
    return {
      http: fake.http,
      close: () => fake.close(),
      provider: (deps, tuning) =>
        webhookProvider.create(
          webhookProvider.configSchema.parse({
            id: 'hook',
            type: 'webhook',
            url: fake.url,
            secret: `whsec_${CANARY}`,
            ...tuning,
          }),
          deps,
        ),
    };
  },
};

let harness: Harness | undefined;
afterEach(async () => {
  await harness?.close();
  harness = undefined;
});

/** Runs one operation, keeping whatever it produced: its value or its error in every rendering. */
async function capture(
  run: () => Promise<unknown>,
): Promise<{ ok: boolean; rendered: Record<string, string> }> {
  try {
    const value = await run();
    return { ok: true, rendered: { value: safeJson(value) } };
  } catch (error) {
    return {
      ok: false,
      rendered: {
        json: safeJson(error),
        string: String(error),
        stack: (error as Error).stack ?? '',
        inspect: inspect(error, { depth: 8, showHidden: true }),
      },
    };
  }
}

const cases = Object.keys(HARNESSES).flatMap((name) =>
  (['success', 'auth', '5xx', 'timeout'] as const).map((scenario) => ({ name, scenario })),
);

describe('provider adapters with the canary credential', () => {
  it.each(cases)('$name, $scenario: the credential appears nowhere', async ({ name, scenario }) => {
    const current = await HARNESSES[name]!(scenario);
    harness = current;
    if (scenario === '5xx') current.http.inject({ status: 503, times: 1000 });
    if (scenario === 'timeout') current.http.inject({ hang: true, times: 1000 });
    const deps = recordingDeps();
    const tuning: Record<string, number> =
      scenario === 'timeout' ? { timeoutMs: 150, maxRetries: 1 } : { maxRetries: 2 };
    const provider = current.provider(deps, tuning);

    const check = await capture(() => provider.checkCredentials());
    const everywhere = await capture(() => provider.unsubscribeEverywhere(EMAIL, ctx));
    const byRef = await capture(() =>
      provider.unsubscribeFromList({ providerType: provider.type, listId: '1', subscriberId: '1' }, ctx),
    );

    if (scenario === 'success') expect(everywhere.ok).toBe(true);
    else expect(everywhere.ok).toBe(false);
    if (scenario === 'auth' || scenario === '5xx') expect(deps.logs.length).toBeGreaterThan(0);
    expectNoCanary({
      logs: deps.logs,
      check: check.rendered,
      everywhere: everywhere.rendered,
      byRef: byRef.rendered,
      provider: inspect(provider, { depth: 2 }),
    });
  });
});
