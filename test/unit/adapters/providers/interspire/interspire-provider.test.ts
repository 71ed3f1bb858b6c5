import { afterEach, describe, expect, it } from 'vitest';
import { interspireConfigSchema, interspireProvider } from '#providers/interspire/interspire.ts';
import { buildIemRequest } from '#providers/interspire/interspire-xml.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { recordingDeps } from '#test/contract/list-provider-contract.ts';

const TOKEN = 'fake-xml-token-0000000000000000000000001';
const ctx = { actionId: 'act_1', kind: 'bounce' as const, reason: 'category=bad-mailbox' };

let fake: FakeInterspireServer;
afterEach(() => fake?.close());

function provider(extra: Record<string, unknown> = {}, deps = recordingDeps()) {
  return interspireProvider.create(
    interspireConfigSchema.parse({
      id: 'iem',
      type: 'interspire',
      url: fake.url,
      username: 'admin',
      token: TOKEN,
      ...extra,
    }),
    deps,
  );
}

async function post(body: string): Promise<string> {
  const response = await fetch(fake.url, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
  expect(response.status).toBe(200);
  return response.text();
}

describe('Interspire fake server fidelity', () => {
  it.each([
    {
      case: 'a capitalised requesttype',
      type: 'Subscribers',
      method: 'GetSubscribers',
      error: 'Invalid request type',
    },
    {
      case: 'XmlApiTest in camel case',
      type: 'authentication',
      method: 'XmlApiTest',
      error: 'Invalid request type',
    },
  ])('refuses $case', async ({ type, method, error }) => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    const xml = buildIemRequest({
      username: 'admin',
      token: TOKEN,
      requestType: type,
      requestMethod: method,
      details: {},
    });
    expect(await post(xml)).toContain(`<errormessage>${error}</errormessage>`);
  });

  it('refuses raw, unescaped XML like the PHP bouncehandler sent', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    const raw = `<xmlrequest><username>admin</username><usertoken>${TOKEN}</usertoken><requesttype>subscribers</requesttype><requestmethod>UnsubscribeSubscriber</requestmethod><details><emailaddress>tom&jerry@example.com</emailaddress><listid>1</listid></details></xmlrequest>`;
    expect(await post(raw)).toContain('<status>FAILED</status>');
  });

  it('counts every UnsubscribeSubscriber, like IEM (not idempotent)', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    const list = fake.addList();
    const id = fake.addSubscriber(list, 'a@example.com');
    const xml = buildIemRequest({
      username: 'admin',
      token: TOKEN,
      requestType: 'subscribers',
      requestMethod: 'UnsubscribeSubscriber',
      details: { emailaddress: 'a@example.com', listid: list },
    });
    await post(xml);
    await post(xml);
    expect(fake.subscriber(id)?.unsubscribeCalls).toBe(2);
    expect(fake.lists.get(list)?.unsubscribecount).toBe(2);
  });
});

describe('Interspire provider', () => {
  it('pages through more than 10 lists and names them all', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    const lists = Array.from({ length: 25 }, (_, i) => fake.addList(`Newsletter ${i + 1}`));
    fake.addSubscriber(lists[24]!, 'late@example.com');
    const result = await provider({ listPageSize: 10 }).unsubscribeEverywhere('late@example.com', ctx);
    expect(fake.http.count('lists/getlists')).toBe(3);
    expect(result.lists).toEqual([{ listId: lists[24], listName: 'Newsletter 25', outcome: 'done' }]);
    const check = await provider({ listPageSize: 10 }).checkCredentials();
    expect(check).toEqual({ ok: true, detail: 'XML token accepted; 25 lists' });
  });

  it('ends paging on an exactly full last page (FAILED with an empty message)', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    for (let i = 0; i < 20; i += 1) fake.addList();
    expect(await provider({ listPageSize: 10 }).checkCredentials()).toEqual({
      ok: true,
      detail: 'XML token accepted; 20 lists',
    });
    expect(fake.http.count('lists/getlists')).toBe(3);
  });

  it('caches the lists and refreshes them after listRefreshSeconds', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    let clock = Date.now();
    const deps = { ...recordingDeps(), now: () => clock };
    const iem = provider({ listRefreshSeconds: 600 }, deps);
    fake.addSubscriber(fake.addList('First'), 'a@example.com');
    await iem.unsubscribeEverywhere('a@example.com', ctx);
    fake.addSubscriber(fake.addList('Second'), 'b@example.com');
    clock += 30_000;
    const early = await iem.unsubscribeEverywhere('b@example.com', ctx);
    expect(fake.http.count('lists/getlists')).toBe(1);
    expect(early.lists[0]?.listName).toBeUndefined();
    clock += 600_000;
    fake.addSubscriber(fake.lists.keys().next().value!, 'c@example.com');
    await iem.unsubscribeEverywhere('c@example.com', ctx);
    expect(fake.http.count('lists/getlists')).toBe(2);
    fake.addSubscriber('2', 'd@example.com');
    const later = await iem.unsubscribeEverywhere('d@example.com', ctx);
    expect(later.lists[0]?.listName).toBe('Second');
  });

  it('keeps exact matches only (GetSubscribers Email is a substring LIKE)', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    const list = fake.addList();
    const exact = fake.addSubscriber(list, 'John@Example.com');
    const longer = fake.addSubscriber(list, 'bigjohn@example.com.au');
    const result = await provider().unsubscribeEverywhere('john@example.com', ctx);
    expect(result.lists.map((l) => l.outcome)).toEqual(['done']);
    expect(fake.subscriber(exact)?.unsubscribed).not.toBe(0);
    expect(fake.subscriber(longer)?.unsubscribed).toBe(0);
  });

  it('escapes XML specials in addresses on the wire', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    const id = fake.addSubscriber(fake.addList(), 'tom&jerry<x>@example.com');
    const result = await provider().unsubscribeEverywhere('tom&jerry<x>@example.com', ctx);
    expect(result.lists.map((l) => l.outcome)).toEqual(['done']);
    expect(fake.subscriber(id)?.unsubscribeCalls).toBe(1);
  });

  it('adds the address to the global suppression list when globalBan is on', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    fake.addSubscriber(fake.addList(), 'a@example.com');
    const iem = provider({ globalBan: true });
    const first = await iem.unsubscribeEverywhere('a@example.com', ctx);
    expect(first.lists.at(-1)).toEqual({ listId: 'g', listName: 'global suppression list', outcome: 'done' });
    expect(fake.banned.get('g')?.has('a@example.com')).toBe(true);
    const second = await iem.unsubscribeEverywhere('a@example.com', ctx);
    expect(second.lists.map((l) => l.outcome)).toEqual(['already', 'already']);
    expect(fake.effects).toBe(2);
  });

  it('a GetSubscribers item without <unsubscribed> is unknown: IsUnSubscriber first, never a second UnsubscribeSubscriber', async () => {
    // Some IEM builds (and customised selects) leave the column out; '' is not "subscribed".
    fake = await FakeInterspireServer.start({
      username: 'admin',
      token: TOKEN,
      subscriberColumns: 'no-unsubscribed',
    });
    const gone = fake.addSubscriber(fake.addList('Old'), 'a@example.com');
    fake.markUnsubscribed(gone);
    const active = fake.addSubscriber(fake.addList('New'), 'a@example.com');
    const result = await provider().unsubscribeEverywhere('a@example.com', ctx);
    expect(result.lists.map((l) => [l.listName, l.outcome])).toEqual([
      ['Old', 'already'],
      ['New', 'done'],
    ]);
    expect(fake.subscriber(gone)?.unsubscribeCalls).toBe(0);
    expect(fake.subscriber(active)?.unsubscribeCalls).toBe(1);
    expect(fake.http.count('subscribers/isunsubscriber')).toBe(2);
    // Asked again later (a replay): both are unsubscribed now, no UnsubscribeSubscriber at all.
    const again = await provider().unsubscribeEverywhere('a@example.com', ctx);
    expect(again.lists.map((l) => l.outcome)).toEqual(['already', 'already']);
    expect(fake.http.count('subscribers/unsubscribesubscriber')).toBe(1);
  });

  it('a LoadSubscriberList answer without <unsubscribed> is unknown too', async () => {
    fake = await FakeInterspireServer.start({
      username: 'admin',
      token: TOKEN,
      subscriberColumns: 'no-unsubscribed',
    });
    const list = fake.addList();
    const id = fake.addSubscriber(list, 'b@example.com');
    fake.markUnsubscribed(id);
    const result = await provider().unsubscribeFromList(
      { providerType: 'interspire', listId: list, subscriberId: id },
      ctx,
    );
    expect(result.lists.map((l) => l.outcome)).toEqual(['already']);
    expect(fake.subscriber(id)?.unsubscribeCalls).toBe(0);
  });

  it('findEmail looks the address up by ids with one LoadSubscriberList', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    const list = fake.addList();
    const id = fake.addSubscriber(list, 'c@example.com');
    const iem = provider();
    expect(await iem.findEmail?.({ providerType: 'interspire', listId: list, subscriberId: id })).toEqual({
      email: 'c@example.com',
      calls: 1,
    });
    expect(await iem.findEmail?.({ providerType: 'interspire', listId: list, subscriberId: '999' })).toEqual({
      email: undefined,
      calls: 1,
    });
    expect(fake.http.count('subscribers/loadsubscriberlist')).toBe(2);
  });

  it('checks the token with authentication/xmlapitest and reports refusal', async () => {
    fake = await FakeInterspireServer.start({ username: 'admin', token: TOKEN });
    expect((await provider().checkCredentials()).ok).toBe(true);
    const refused = await provider({ token: 'fake-wrong-token' }).checkCredentials();
    expect(refused).toEqual({ ok: false, detail: 'iem: credentials refused: Unable to check user details.' });
  });
});
