import { mailwizzConfigSchema, mailwizzProvider } from '#providers/mailwizz/mailwizz.ts';
import { FakeMailwizzServer, MAILWIZZ_MUTATING_ENDPOINTS } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { type ContractFixture, describeListProviderContract } from './list-provider-contract.ts';

// Obviously fake keys: 40 hex characters like the real ones, nothing more.
const API_KEY = 'f00dfeedf00dfeedf00dfeedf00dfeedf00d0001';
const PRIVATE_KEY = 'f00dfeedf00dfeedf00dfeedf00dfeedf00d0002';
const WRONG_KEY = 'f00dfeedf00dfeedf00dfeedf00dfeedf00d9999';

async function mailwizzFixture(mode: 'v1' | 'v2', countAsString: boolean): Promise<ContractFixture> {
  const fake = await FakeMailwizzServer.start({
    mode,
    apiKey: API_KEY,
    ...(mode === 'v1' ? { privateKey: PRIVATE_KEY } : {}),
    countAsString,
  });
  return {
    provider: (deps, { badCredentials, ...options } = {}) =>
      mailwizzProvider.create(
        mailwizzConfigSchema.parse({
          id: `mw-${mode}`,
          type: 'mailwizz',
          url: fake.url,
          apiKey: badCredentials ? WRONG_KEY : API_KEY,
          ...(mode === 'v1' ? { privateKey: PRIVATE_KEY } : {}),
          ...options,
        }),
        deps,
      ),
    seed: (email, lists) =>
      Array.from({ length: lists }, () => {
        const listId = fake.addList();
        const subscriberId = fake.addSubscriber(listId, email);
        return { providerType: 'mailwizz', listId, subscriberId };
      }),
    unknownRef: () => ({ providerType: 'mailwizz', listId: fake.addList(), subscriberId: 'zz999zz999zz9' }),
    isActive: (ref) => fake.subscriber(ref.subscriberId)?.status === 'confirmed',
    changesOf: (ref) => fake.subscriber(ref.subscriberId)?.changes ?? 0,
    effects: () => fake.effects,
    mutatingRequests: () => fake.mutatingRequests(),
    requests: () => fake.http.totalRequests(),
    inject: ({ mutating, ...fault }) =>
      fake.http.inject(mutating ? { ...fault, endpoint: MAILWIZZ_MUTATING_ENDPOINTS[0] } : fault),
    setLatency: (ms) => {
      fake.http.latencyMs = ms;
    },
    maxInFlight: () => fake.http.maxInFlight(),
    secrets: [API_KEY, PRIVATE_KEY, WRONG_KEY],
    close: () => fake.close(),
  };
}

const capabilities = {
  transport: true,
  reportsLists: true,
  readsBeforeWrite: true,
  // One search plus one bulk unsubscribe, whatever the number of lists.
  maxCallsEverywhere: () => 2,
};

describeListProviderContract('MailWizz 2.x (X-API-KEY)', capabilities, () => mailwizzFixture('v2', false));
describeListProviderContract('MailWizz 1.x (signed, count as string)', capabilities, () =>
  mailwizzFixture('v1', true),
);
