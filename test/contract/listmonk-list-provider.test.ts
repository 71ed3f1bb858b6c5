import { listmonkConfigSchema, listmonkProvider } from '#providers/listmonk/listmonk.ts';
import { FakeListmonkServer, LISTMONK_ENDPOINTS } from '#sandbox/fakes/fake-listmonk-server.ts';
import { type ContractFixture, describeListProviderContract } from './list-provider-contract.ts';

// Obviously fake: an API user and token shaped like listmonk's, nothing more.
const USER = 'pmta-bounce-api';
const TOKEN = 'fakeTokenForTests0000000000000001';
const WRONG = 'fakeTokenForTests0000000000009999';

async function listmonkFixture(
  mode: 'bounce' | 'unsubscribe',
  auth: 'basic' | 'token',
  unsubscribeAs: 'unsubscribe' | 'blocklist' = 'unsubscribe',
): Promise<ContractFixture> {
  const fake = await FakeListmonkServer.start({ username: USER, token: TOKEN });
  // The mutating call of this mode, for "the answer was lost after the change" faults.
  const mutating =
    mode === 'bounce'
      ? LISTMONK_ENDPOINTS.webhook
      : unsubscribeAs === 'blocklist'
        ? LISTMONK_ENDPOINTS.blocklist
        : LISTMONK_ENDPOINTS.lists;
  return {
    provider: (deps, { badCredentials, ...options } = {}) =>
      listmonkProvider.create(
        listmonkConfigSchema.parse({
          id: `lm-${mode}`,
          type: 'listmonk',
          url: fake.url,
          username: USER,
          token: badCredentials ? WRONG : TOKEN,
          auth,
          mode,
          unsubscribeAs,
          ...options,
        }),
        deps,
      ),
    seed: (email, lists) =>
      Array.from({ length: lists }, () => {
        const listId = fake.addList();
        const subscriberId = fake.subscribe(email, listId);
        return { providerType: 'listmonk', listId: String(listId), subscriberId: String(subscriberId) };
      }),
    unknownRef: () => ({ providerType: 'listmonk', listId: String(fake.addList()), subscriberId: '999999' }),
    isActive: (ref) => fake.isActive(Number(ref.subscriberId), Number(ref.listId)),
    changesOf: (ref) =>
      fake.subscriberById(Number(ref.subscriberId))?.lists.find((l) => l.listId === Number(ref.listId))
        ?.changes ?? 0,
    effects: () => fake.effects,
    mutatingRequests: () => fake.mutatingRequests(),
    requests: () => fake.http.totalRequests(),
    inject: ({ mutating: onMutating, ...fault }) =>
      fake.http.inject(onMutating ? { ...fault, endpoint: mutating } : fault),
    setLatency: (ms) => {
      fake.http.latencyMs = ms;
    },
    maxInFlight: () => fake.http.maxInFlight(),
    secrets: [TOKEN, WRONG, Buffer.from(`${USER}:${TOKEN}`).toString('base64')],
    close: () => fake.close(),
  };
}

const capabilities = { transport: true, reportsLists: true, readsBeforeWrite: true };

// Bounce mode: lookup, the action-id check of the subscriber's bounces, one post.
describeListProviderContract(
  'listmonk, bounce webhook (BasicAuth)',
  { ...capabilities, maxCallsEverywhere: () => 3 },
  () => listmonkFixture('bounce', 'basic'),
);
// Unsubscribe mode: lookup and one call, whatever the number of lists.
describeListProviderContract(
  'listmonk, subscribers API unsubscribe (token header)',
  { ...capabilities, maxCallsEverywhere: () => 2 },
  () => listmonkFixture('unsubscribe', 'token'),
);
describeListProviderContract(
  'listmonk, subscribers API blocklist',
  { ...capabilities, maxCallsEverywhere: () => 2 },
  () => listmonkFixture('unsubscribe', 'basic', 'blocklist'),
);
