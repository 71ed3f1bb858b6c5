import { interspireConfigSchema, interspireProvider } from '#providers/interspire/interspire.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { type ContractFixture, describeListProviderContract } from './list-provider-contract.ts';

const TOKEN = 'fake-xml-token-0000000000000000000000001';
const WRONG_TOKEN = 'fake-xml-token-wrong';

async function interspireFixture(): Promise<ContractFixture> {
  const fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
  return {
    provider: (deps, { badCredentials, ...options } = {}) =>
      interspireProvider.create(
        interspireConfigSchema.parse({
          id: 'iem',
          type: 'interspire',
          url: fake.url,
          username: 'admin',
          token: badCredentials ? WRONG_TOKEN : TOKEN,
          ...options,
        }),
        deps,
      ),
    seed: (email, lists) =>
      Array.from({ length: lists }, () => {
        const listId = fake.addList();
        return { providerType: 'interspire', listId, subscriberId: fake.addSubscriber(listId, email) };
      }),
    unknownRef: () => ({ providerType: 'interspire', listId: fake.addList(), subscriberId: '999999' }),
    isActive: (ref) => fake.subscriber(ref.subscriberId)?.unsubscribed === 0,
    changesOf: (ref) => fake.subscriber(ref.subscriberId)?.unsubscribeCalls ?? 0,
    effects: () => fake.effects,
    mutatingRequests: () => fake.mutatingRequests(),
    requests: () => fake.http.totalRequests(),
    inject: ({ mutating, ...fault }) =>
      fake.http.inject(mutating ? { ...fault, endpoint: 'subscribers/unsubscribesubscriber' } : fault),
    setLatency: (ms) => {
      fake.http.latencyMs = ms;
    },
    maxInFlight: () => fake.http.maxInFlight(),
    secrets: [TOKEN, WRONG_TOKEN],
    close: () => fake.close(),
  };
}

describeListProviderContract(
  'Interspire XML API',
  {
    transport: true,
    reportsLists: true,
    readsBeforeWrite: true,
    // GetSubscribers + one GetLists page (cold cache) + one UnsubscribeSubscriber per list.
    maxCallsEverywhere: (lists) => 2 + lists,
  },
  interspireFixture,
);
