import type { SubscriberRef } from '#core/mail-event.ts';
import { webhookConfigSchema, webhookProvider } from '#providers/webhook/webhook.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { type ContractFixture, describeListProviderContract } from './list-provider-contract.ts';

// base64 of "fake-webhook-secret-for-tests-only"
const SECRET = `whsec_${Buffer.from('fake-webhook-secret-for-tests-only').toString('base64')}`;
const WRONG = `whsec_${Buffer.from('another-fake-secret-for-tests-only').toString('base64')}`;

async function webhookFixture(): Promise<ContractFixture> {
  const fake = await FakeWebhookServer.start({ secret: SECRET });
  const find = (ref: SubscriberRef) => fake.subscriptions.find((s) => s.subscriberId === ref.subscriberId);
  return {
    provider: (deps, { badCredentials, ...options } = {}) =>
      webhookProvider.create(
        webhookConfigSchema.parse({
          id: 'crm',
          type: 'webhook',
          url: fake.url,
          secret: badCredentials ? WRONG : SECRET,
          ...options,
        }),
        deps,
      ),
    seed: (email, lists) =>
      Array.from({ length: lists }, () => {
        const s = fake.subscribe(email);
        return { providerType: 'crm', listId: s.listId, subscriberId: s.subscriberId };
      }),
    unknownRef: () => ({ providerType: 'crm', listId: 'list-none', subscriberId: 'sub-none' }),
    isActive: (ref) => find(ref)?.active ?? false,
    changesOf: (ref) => find(ref)?.changes ?? 0,
    effects: () => fake.effects,
    mutatingRequests: () => fake.mutatingRequests(),
    requests: () => fake.http.totalRequests(),
    inject: ({ mutating, ...fault }) => fake.http.inject(fault),
    setLatency: (ms) => {
      fake.http.latencyMs = ms;
    },
    maxInFlight: () => fake.http.maxInFlight(),
    // The secret and its decoded key must never show up anywhere.
    secrets: [
      SECRET,
      SECRET.slice(6),
      'fake-webhook-secret-for-tests-only',
      WRONG,
      WRONG.slice(6),
      fake.path,
    ],
    close: () => fake.close(),
  };
}

describeListProviderContract(
  'signed webhook (Standard Webhooks)',
  { transport: true, reportsLists: false, readsBeforeWrite: false, maxCallsEverywhere: () => 1 },
  webhookFixture,
);
