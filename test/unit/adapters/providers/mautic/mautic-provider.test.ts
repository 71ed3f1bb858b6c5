/**
 * Mautic specifics beyond the contract: DNC reasons and comments, an existing DNC left alone, the
 * token kept and renewed, the configuration errors `check` must name, the credential keys.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionContext } from '#core/ports.ts';
import { mauticProvider } from '#providers/mautic/mautic.ts';
import {
  type FakeMauticOptions,
  FakeMauticServer,
  MAUTIC_ENDPOINTS,
} from '#sandbox/fakes/fake-mautic-server.ts';
import { recordingDeps } from '#test/contract/list-provider-contract.ts';

const CLIENT = { clientId: '1_fakeclient', clientSecret: 'fakeMauticClientSecret0001' };
let fake: FakeMauticServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: Partial<FakeMauticOptions> = {}) {
  fake = await FakeMauticServer.start({ ...CLIENT, ...options });
  return fake;
}

function provider(server: FakeMauticServer, extra: Record<string, unknown> = CLIENT) {
  const config = mauticProvider.configSchema.parse({
    id: 'mautic',
    type: 'mautic',
    url: server.url,
    maxRetries: 1,
    ...extra,
  });
  return mauticProvider.create(config, recordingDeps());
}

const context = (kind: ActionContext['kind']): ActionContext => ({
  actionId: 'x',
  kind,
  reason: 'category=bad-mailbox rule=r12: hard bounce',
});

describe('Mautic DNC', () => {
  it.each([
    ['bounce', 2],
    ['complaint', 1],
    ['unsubscribe', 1],
  ] as const)('%s adds DNC reason %i with a comment naming category and rule', async (kind, reason) => {
    const server = await start();
    const id = server.addContact('Gone@Example.com', server.addSegment());
    const result = await provider(server).unsubscribeEverywhere('gone@example.com', context(kind));
    expect(result.lists).toEqual([{ listId: `contact-${id}`, listName: 'email DNC', outcome: 'done' }]);
    expect(server.contact(id)?.dnc).toEqual({
      reason,
      comments: `pmta-bounce ${kind}: category=bad-mailbox rule=r12: hard bounce`,
    });
  });

  it('leaves an existing DNC (e.g. the contact unsubscribed itself) alone, with no write', async () => {
    const server = await start();
    const id = server.addContact('a@example.com');
    server.contact(id)!.dnc = { reason: 1, comments: 'by the contact' };
    const result = await provider(server).unsubscribeEverywhere('a@example.com', context('bounce'));
    expect(result.lists.map((l) => l.outcome)).toEqual(['already']);
    expect(server.contact(id)?.dnc?.reason).toBe(1);
    expect(server.mutatingRequests()).toBe(0);
  });

  it("finds an address with ' or & through the search (Mautic entity-encodes where values)", async () => {
    const server = await start();
    const id = server.addContact("o'brien&co@example.com");
    server.addContact("xo'brien&co@example.com");
    const result = await provider(server).unsubscribeEverywhere("O'Brien&co@example.com", context('bounce'));
    expect(result.lists).toEqual([{ listId: `contact-${id}`, listName: 'email DNC', outcome: 'done' }]);
    // The where filter alone would have found nothing:
    const url = `${server.url}/api/contacts?where[0][col]=email&where[0][expr]=eq&where[0][val]=${encodeURIComponent("o'brien&co@example.com")}`;
    const token = [...server.tokens.keys()][0]!;
    const direct = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
    expect(await direct.json()).toEqual({ total: '0', contacts: [] });
  });

  it('acts on every duplicate contact of the address and on nobody else', async () => {
    const server = await start();
    const one = server.addContact('dup@example.com');
    server.contacts.push({
      id: 77,
      email: 'DUP@example.com',
      dnc: undefined,
      segments: new Set(),
      changes: new Map(),
    });
    const other = server.addContact('dupe@example.com');
    const result = await provider(server).unsubscribeEverywhere('dup@example.com', context('complaint'));
    expect(result.lists.map((l) => l.listId).sort()).toEqual([`contact-${one}`, 'contact-77']);
    expect(server.contact(other)?.dnc).toBeUndefined();
  });
});

describe('Mautic authentication', () => {
  it('keeps one token across calls and renews it when Mautic refuses it', async () => {
    const server = await start();
    server.addContact('t1@example.com');
    server.addContact('t2@example.com');
    const p = provider(server);
    await p.unsubscribeEverywhere('t1@example.com', context('bounce'));
    expect(server.http.count(MAUTIC_ENDPOINTS.token)).toBe(1);
    server.tokens.clear(); // revoked on the Mautic side
    const result = await p.unsubscribeEverywhere('t2@example.com', context('bounce'));
    expect(result.lists.map((l) => l.outcome)).toEqual(['done']);
    expect(server.http.count(MAUTIC_ENDPOINTS.token)).toBe(2);
  });

  it('concurrent actions share one token request', async () => {
    const server = await start();
    const emails = ['p1@example.com', 'p2@example.com', 'p3@example.com'];
    for (const e of emails) server.addContact(e);
    const p = provider(server);
    await Promise.all(emails.map((e) => p.unsubscribeEverywhere(e, context('bounce'))));
    expect(server.http.count(MAUTIC_ENDPOINTS.token)).toBe(1);
    expect(server.contacts.every((c) => c.dnc?.reason === 2)).toBe(true);
  });

  it('renews a token before it expires', async () => {
    let now = 1_700_000_000_000;
    const server = await start({ tokenLifetime: 3600, now: () => now });
    const config = mauticProvider.configSchema.parse({ id: 'm', type: 'mautic', url: server.url, ...CLIENT });
    const p = mauticProvider.create(config, { ...recordingDeps(), now: () => now });
    await p.checkCredentials();
    now += 3_550_000; // inside the last minute of the hour
    await p.checkCredentials();
    expect(server.http.count(MAUTIC_ENDPOINTS.token)).toBe(2);
  });

  it.each([
    [{ apiEnabled: false }, CLIENT, /API disabled/],
    [
      { username: 'u', password: 'p', basicAuthEnabled: false },
      { username: 'u', password: 'p' },
      /Basic Auth disabled/,
    ],
    [
      {},
      { ...CLIENT, clientSecret: 'wrong-secret' },
      /OAuth2 client refused: The client credentials are invalid/,
    ],
    [{ username: 'u', password: 'p' }, { username: 'u', password: 'nope' }, /invalid credentials/],
  ])('check names the problem (%j)', async (options, credentials, detail) => {
    const server = await start(options);
    const check = await provider(server, credentials).checkCredentials();
    expect(check.ok).toBe(false);
    expect(check.detail).toMatch(detail);
  });

  it('check says which way it authenticated', async () => {
    const server = await start({ username: 'u', password: 'p' });
    server.addContact('c@example.com');
    expect((await provider(server).checkCredentials()).detail).toBe('OAuth2 client accepted; 1 contact');
    expect((await provider(server, { username: 'u', password: 'p' }).checkCredentials()).detail).toBe(
      'BasicAuth user accepted; 1 contact',
    );
  });

  it.each([
    [{}, /credentials missing/],
    [{ ...CLIENT, username: 'u', password: 'p' }, /not both/],
    [{ clientId: 'x' }, /clientId and clientSecret go together/],
    [{ username: 'u' }, /username and password go together/],
  ])('config %j is refused', (credentials, message) => {
    const parsed = mauticProvider.configSchema.safeParse({
      id: 'm',
      type: 'mautic',
      url: 'https://m.example.com',
      ...credentials,
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(message);
  });

  it('treats clientSecret and password as credentials', () => {
    expect(mauticProvider.secretKeys).toEqual(['clientSecret', 'password']);
  });
});
