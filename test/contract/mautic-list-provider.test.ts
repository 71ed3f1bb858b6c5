import { mauticConfigSchema, mauticProvider } from '#providers/mautic/mautic.ts';
import { FakeMauticServer, MAUTIC_ENDPOINTS } from '#sandbox/fakes/fake-mautic-server.ts';
import { type ContractFixture, describeListProviderContract } from './list-provider-contract.ts';

// Obviously fake credentials shaped like Mautic's (a public id and a secret).
const CLIENT_ID = '1_fakeclientidfortestsonly0000000000000000';
const CLIENT_SECRET = 'fakeClientSecretForTestsOnly00000000000001';
const PASSWORD = 'fake-mautic-password-for-tests-0001';
const WRONG = 'fake-mautic-secret-that-is-refused-9999';

async function mauticFixture(auth: 'oauth2' | 'basic'): Promise<ContractFixture> {
  const fake = await FakeMauticServer.start({
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    username: 'api-user',
    password: PASSWORD,
    basicAuthEnabled: true,
  });
  const credentials = (bad: boolean | undefined) =>
    auth === 'oauth2'
      ? { clientId: CLIENT_ID, clientSecret: bad ? WRONG : CLIENT_SECRET }
      : { username: 'api-user', password: bad ? WRONG : PASSWORD };
  return {
    provider: (deps, { badCredentials, ...options } = {}) =>
      mauticProvider.create(
        mauticConfigSchema.parse({
          id: `mautic-${auth}`,
          type: 'mautic',
          url: fake.url,
          ...credentials(badCredentials),
          ...options,
        }),
        deps,
      ),
    // One contact per address, in one segment per "list".
    seed: (email, lists) =>
      Array.from({ length: lists }, () => {
        const segment = fake.addSegment();
        const contact = fake.addContact(email, segment);
        return { providerType: 'mautic', listId: String(segment), subscriberId: String(contact) };
      }),
    unknownRef: () => ({ providerType: 'mautic', listId: String(fake.addSegment()), subscriberId: '999999' }),
    isActive: (ref) => fake.isActive(Number(ref.subscriberId), Number(ref.listId)),
    changesOf: (ref) => fake.contact(Number(ref.subscriberId))?.changes.get(Number(ref.listId)) ?? 0,
    effects: () => fake.effects,
    mutatingRequests: () => fake.mutatingRequests(),
    requests: () => fake.http.totalRequests(),
    inject: ({ mutating, ...fault }) =>
      fake.http.inject(mutating ? { ...fault, endpoint: MAUTIC_ENDPOINTS.dncAdd } : fault),
    setLatency: (ms) => {
      fake.http.latencyMs = ms;
    },
    maxInFlight: () => fake.http.maxInFlight(),
    secrets: [
      CLIENT_SECRET,
      PASSWORD,
      WRONG,
      Buffer.from(`api-user:${PASSWORD}`).toString('base64'),
      ...fake.tokens.keys(),
    ],
    close: () => fake.close(),
  };
}

// The DNC is contact-wide: results name the contacts, not segments.
const capabilities = { transport: true, reportsLists: false, readsBeforeWrite: true };

describeListProviderContract(
  'Mautic, OAuth2 client credentials',
  // A token on first use, the contact search, one DNC add.
  { ...capabilities, maxCallsEverywhere: () => 3 },
  () => mauticFixture('oauth2'),
);
describeListProviderContract('Mautic, BasicAuth', { ...capabilities, maxCallsEverywhere: () => 2 }, () =>
  mauticFixture('basic'),
);
