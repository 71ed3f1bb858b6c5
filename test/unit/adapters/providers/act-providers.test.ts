/**
 * A routine config change must not stop everything (docs/deploy-aws.md "Adding a provider"): a
 * provider whose `${NAME}` the secret does not hold yet fails alone, as retryable, naming the key;
 * the others work; once the secret has the key the act function picks it up without a recycle.
 * Each act instance takes its share of a provider's limits.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runAction } from '#core/act/run-action.ts';
import type { ActionContext } from '#core/ports.ts';
import { ENV } from '#lambda/env.ts';
import { createActWiring, TUNING_ENV } from '#lambda/wiring.ts';
import { buildActProviders, perInstanceLimits, UnavailableProvider } from '#providers/act-providers.ts';
import { defaultProviderDeps } from '#providers/provider-definition.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import {
  FAKE_SECRET_ARN,
  type FakeSecretsManager,
  startFakeSecretsManager,
} from '#test/support/fake-secrets-manager.ts';
import { MemorySuppressionStore } from '#test/support/memory-suppression-store.ts';

const MW_KEY = 'mw-key-0123456789abcdef';
const HOOK_SECRET = `whsec_${Buffer.from('provider-map-test-webhook-secret').toString('base64')}`;
const CONTEXT: ActionContext = { actionId: 'a1', kind: 'bounce', reason: 'hard' };

let mailwizz: FakeMailwizzServer;
let webhook: FakeWebhookServer;
let secrets: FakeSecretsManager;

beforeAll(async () => {
  [mailwizz, webhook, secrets] = await Promise.all([
    FakeMailwizzServer.start({ mode: 'v2', apiKey: MW_KEY }),
    FakeWebhookServer.start({ secret: HOOK_SECRET }),
    startFakeSecretsManager({ MW_KEY }), // the webhook's key not put yet
  ]);
  mailwizz.addSubscriber(mailwizz.addList(), 'gone@example.com');
});
afterAll(async () => {
  await Promise.all([mailwizz?.close(), webhook?.close(), secrets?.close()]);
});

const entries = () => [
  { id: 'mw', type: 'mailwizz', url: mailwizz.url, apiKey: '${MW_KEY}', maxRetries: 0 },
  { id: 'hook', type: 'webhook', url: webhook.url, secret: '${HOOK_SECRET}', maxRetries: 0 },
];

describe('buildActProviders (act-providers.ts)', () => {
  it('fails only the provider whose key the secret lacks, retryably, naming key and index', async () => {
    const { providers, unavailable } = buildActProviders({
      entries: entries(),
      vars: { MW_KEY },
      deps: defaultProviderDeps(),
    });
    expect(unavailable.map((p) => p.id)).toEqual(['hook']);
    expect(unavailable[0]!.reason).toMatch(/providers\[1\].*HOOK_SECRET/);
    expect(providers.get('hook')).toBeInstanceOf(UnavailableProvider);

    const store = new MemorySuppressionStore();
    const action = {
      v: 1 as const,
      id: 'gone@example.com',
      subject: 'gone@example.com',
      target: { type: 'email' as const, address: 'gone@example.com' },
      kind: 'bounce' as const,
      reason: 'hard',
      providers: ['mw', 'hook'],
    };
    const result = await runAction(action, providers, store, Date.now);
    expect(result.outcomes.find((o) => o.provider === 'mw')).toMatchObject({ outcome: 'done' });
    expect(result.outcomes.find((o) => o.provider === 'hook')).toMatchObject({
      outcome: 'failed',
      retryable: true,
      calls: 0,
      error: expect.stringMatching(/HOOK_SECRET/),
    });
    expect(webhook.attempts).toEqual([]);
  });

  it('names the key of a value the secret holds but the provider refuses', () => {
    const { unavailable } = buildActProviders({
      entries: entries(),
      vars: { MW_KEY, HOOK_SECRET: 'not-a-webhook-secret' },
      deps: defaultProviderDeps(),
    });
    expect(unavailable.map((p) => p.reason)).toEqual([expect.stringMatching(/providers\[1\]\.secret/)]);
    expect(unavailable[0]!.reason).not.toContain('not-a-webhook-secret');
  });

  it.each([
    { instances: 2, concurrency: 4, rate: 10, want: { concurrency: 2, ratePerSecond: 5 } },
    { instances: 2, concurrency: 1, rate: undefined, want: { concurrency: 1 } },
    { instances: 3, concurrency: 8, rate: 1, want: { concurrency: 2, ratePerSecond: 1 / 3 } },
    { instances: 1, concurrency: 4, rate: 2, want: { concurrency: 4, ratePerSecond: 2 } },
  ])('gives each of $instances act instances its share of concurrency $concurrency', (c) => {
    const provider = {
      id: 'p',
      type: 'webhook',
      concurrency: c.concurrency,
      timeoutMs: 1000,
      maxRetries: 0,
      ...(c.rate === undefined ? {} : { ratePerSecond: c.rate }),
    };
    expect(perInstanceLimits(provider, c.instances)).toMatchObject(c.want);
  });
});

describe('act wiring', () => {
  it('picks up a key put into the secret while the provider waits, without a recycle', async () => {
    // The SDK reads these from the process environment, as in Lambda.
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', secrets.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    const wiring = createActWiring({
      [ENV.CONFIG_JSON]: JSON.stringify({ providers: entries() }),
      [ENV.SECRET_ARN]: FAKE_SECRET_ARN,
      [ENV.TABLE_NAME]: 'unused-by-this-test',
      [ENV.ACT_INSTANCES]: '2',
      [TUNING_ENV.SECRET_REFRESH_SECONDS]: '0',
      AWS_REGION: 'us-east-1',
    });
    const before = await wiring.deps();
    expect(before.providers.get('hook')).toBeInstanceOf(UnavailableProvider);
    await expect(
      before.providers.get('hook')!.unsubscribeEverywhere('x@example.com', CONTEXT),
    ).rejects.toThrow(/HOOK_SECRET/);
    const readsBefore = secrets.calls();

    secrets.put({ MW_KEY, HOOK_SECRET }); // the operator's put-secret-value
    const after = await wiring.deps();
    expect(secrets.calls()).toBe(readsBefore + 1);
    const result = await after.providers.get('hook')!.unsubscribeEverywhere('x@example.com', CONTEXT);
    expect(result.lists).toEqual([{ listId: '*', outcome: expect.any(String) }]); // the receiver answered
    expect(webhook.attempts).toHaveLength(1);

    await wiring.deps(); // healthy now: the secret is not read again
    expect(secrets.calls()).toBe(readsBefore + 1);
    vi.unstubAllEnvs();
  });
});
