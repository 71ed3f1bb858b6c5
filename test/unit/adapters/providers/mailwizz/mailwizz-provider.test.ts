import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '#core/errors.ts';
import { campaignFromJobId, mailwizzConfigSchema, mailwizzProvider } from '#providers/mailwizz/mailwizz.ts';
import { FakeMailwizzServer, MAILWIZZ_ENDPOINTS } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { recordingDeps } from '#test/contract/list-provider-contract.ts';

const API_KEY = 'f00dfeedf00dfeedf00dfeedf00dfeedf00d0001';
const PRIVATE_KEY = 'f00dfeedf00dfeedf00dfeedf00dfeedf00d0002';
const EMAIL = 'john.doe+x@example.com';
const ctx = { actionId: 'act_1', kind: 'bounce' as const, reason: 'category=bad-mailbox' };

let fake: FakeMailwizzServer;
afterEach(() => fake?.close());

function provider(extra: Record<string, unknown> = {}, deps = recordingDeps()) {
  return mailwizzProvider.create(
    mailwizzConfigSchema.parse({ id: 'mw', type: 'mailwizz', url: fake.url, apiKey: API_KEY, ...extra }),
    deps,
  );
}

describe('MailWizz fake server fidelity', () => {
  it('answers POST + X-HTTP-Method-Override: PUT with 400 "Only PUT requests allowed"', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const response = await fetch(`${fake.url}/lists/subscribers/unsubscribe-by-email-from-all-lists`, {
      method: 'POST',
      headers: {
        'x-api-key': API_KEY,
        'x-http-method-override': 'PUT',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'EMAIL=a%40b.example',
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      status: 'error',
      error: 'Only PUT requests allowed for this endpoint.',
    });
  });

  it('does not read a JSON body (422, EMAIL missing) and 404s an unrouted verb', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const url = `${fake.url}/lists/subscribers/unsubscribe-by-email-from-all-lists`;
    const headers = { 'x-api-key': API_KEY, 'content-type': 'application/json' };
    const json = await fetch(url, { method: 'PUT', headers, body: JSON.stringify({ EMAIL: 'a@b.example' }) });
    expect(json.status).toBe(422);
    expect(((await json.json()) as { error: string }).error).toBe(
      'Please provide the subscriber email address.',
    );
    const wrongVerb = await fetch(url, { method: 'POST', headers });
    expect(wrongVerb.status).toBe(404);
  });

  it('refuses a v1 request whose query on the wire differs from the signed one', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v1', apiKey: API_KEY, privateKey: PRIVATE_KEY });
    const deps = recordingDeps();
    let tampered = false;
    const tamperingFetch: typeof fetch = (input, init) => {
      tampered = true;
      return fetch(String(input).replace('EMAIL=', 'EMAIL=x'), init);
    };
    const error = await provider({ privateKey: PRIVATE_KEY }, { ...deps, fetch: tamperingFetch })
      .unsubscribeEverywhere(EMAIL, ctx)
      .catch((e: unknown) => e);
    expect(tampered).toBe(true);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe('auth');
    expect((error as ProviderError).message).toContain('Invalid API request signature');
  });
});

describe('MailWizz provider', () => {
  it('reports a stale 1.x timestamp (clock skew) as an auth error', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v1', apiKey: API_KEY, privateKey: PRIVATE_KEY });
    const deps = recordingDeps();
    const skewed = { ...deps, now: () => Date.now() - 20 * 60 * 1000 };
    const error = (await provider({ privateKey: PRIVATE_KEY }, skewed)
      .unsubscribeEverywhere(EMAIL, ctx)
      .catch((e: unknown) => e)) as ProviderError;
    expect(error.kind).toBe('auth');
    expect(error.message).toContain('Your request expired');
  });

  it.each([
    { countAsString: true, lists: 12, detail: 'API key accepted; 12 lists' },
    { countAsString: false, lists: 12, detail: 'API key accepted; 12 lists' },
    { countAsString: false, lists: 0, detail: 'API key accepted; 0 lists' },
  ])('reads count as string=$countAsString ($lists lists)', async ({ countAsString, lists, detail }) => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY, countAsString });
    for (let i = 0; i < lists; i += 1) fake.addList();
    expect(await provider().checkCredentials()).toEqual({ ok: true, detail });
  });

  it('unsubscribes from 5 lists with exactly 2 calls (search + bulk)', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    for (let i = 0; i < 5; i += 1) fake.addSubscriber(fake.addList(), EMAIL);
    const result = await provider().unsubscribeEverywhere(EMAIL, ctx);
    expect(result.calls).toBe(2);
    expect(result.lists).toHaveLength(5);
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.searchAll)).toBe(1);
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.unsubscribeAll)).toBe(1);
  });

  it.each([
    {
      case: 'unconfirmed and blacklisted',
      statuses: ['unconfirmed', 'blacklisted'],
      outcomes: ['done', 'already'],
      bulk: 1,
    },
    {
      case: 'only unsubscribed and blacklisted',
      statuses: ['unsubscribed', 'blacklisted'],
      outcomes: ['already', 'already'],
      bulk: 0,
    },
  ])('with $case subscriptions', async ({ statuses, outcomes, bulk }) => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const lists = statuses.map((status) => {
      const list = fake.addList();
      fake.addSubscriber(list, EMAIL, status);
      return list;
    });
    const result = await provider().unsubscribeEverywhere(EMAIL, ctx);
    expect(lists.map((l) => result.lists.find((r) => r.listId === l)?.outcome)).toEqual(outcomes);
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.unsubscribeAll)).toBe(bulk);
  });

  it('reports the bounce on the campaign named by jobId before unsubscribing, when enabled', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const campaign = fake.addCampaign();
    const list = fake.addList();
    const subscriber = fake.addSubscriber(list, EMAIL);
    const result = await provider({ reportBounces: true }).unsubscribeEverywhere(EMAIL, {
      ...ctx,
      jobId: `mailwizz-${campaign}`,
      diagnostic: '550 5.1.1 user unknown',
    });
    expect(result.calls).toBe(3);
    expect(fake.bounces).toEqual([{ campaignUid: campaign, subscriberUid: subscriber, type: 'hard' }]);
    // MailWizz blacklists only while the subscriber is still confirmed: the order matters.
    expect(fake.blacklist.has(EMAIL)).toBe(true);
    expect(fake.subscriber(subscriber)?.status).toBe('unsubscribed');
  });

  it.each([
    { case: 'disabled', reportBounces: false, kind: 'bounce' as const, jobId: 'mailwizz-CAMPAIGN' },
    { case: 'a complaint', reportBounces: true, kind: 'complaint' as const, jobId: 'mailwizz-CAMPAIGN' },
    {
      case: 'a jobId of another mailer',
      reportBounces: true,
      kind: 'bounce' as const,
      jobId: 'newsletter-42',
    },
  ])('does not report the bounce for $case', async ({ reportBounces, kind, jobId }) => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const campaign = fake.addCampaign();
    fake.addSubscriber(fake.addList(), EMAIL);
    const result = await provider({ reportBounces }).unsubscribeEverywhere(EMAIL, {
      ...ctx,
      kind,
      jobId: jobId.replace('CAMPAIGN', campaign),
    });
    expect(result.calls).toBe(2);
    expect(fake.bounces).toEqual([]);
  });

  it('keeps going when the campaign is unknown to MailWizz', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const [ref] = [fake.addSubscriber(fake.addList(), EMAIL)];
    const result = await provider({ reportBounces: true }).unsubscribeEverywhere(EMAIL, {
      ...ctx,
      jobId: 'mailwizz-zz000zz000zz0',
    });
    expect(result.lists.map((l) => l.outcome)).toEqual(['done']);
    expect(fake.subscriber(ref)?.status).toBe('unsubscribed');
  });

  it.each([
    { jobId: 'mailwizz-ab123cd45ef67', expected: 'ab123cd45ef67' },
    { jobId: 'mailwizz-AB123', expected: undefined },
    { jobId: 'other-ab123cd45ef67', expected: undefined },
    { jobId: undefined, expected: undefined },
  ])('reads the campaign uid from jobId $jobId', ({ jobId, expected }) => {
    expect(campaignFromJobId(jobId)).toBe(expected);
  });

  it('leaves an unconfirmed subscriber to the per-list endpoint as already (it changes only confirmed ones)', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const list = fake.addList();
    const subscriber = fake.addSubscriber(list, EMAIL, 'unconfirmed');
    const result = await provider().unsubscribeFromList(
      { providerType: 'mailwizz', listId: list, subscriberId: subscriber },
      { ...ctx, kind: 'unsubscribe' },
    );
    expect(result.lists.map((l) => l.outcome)).toEqual(['already']);
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.unsubscribeOne)).toBe(0);
  });

  it('a 404 that is not MailWizz saying "does not exist" is a configuration error, never a not-found', async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const list = fake.addList('News');
    const uid = fake.addSubscriber(list, EMAIL);
    const ref = { providerType: 'mailwizz', listId: list, subscriberId: uid };
    // A wrong base path: MailWizz answers its own "Page not found." for every route.
    const wrongPath = mailwizzProvider.create(
      mailwizzConfigSchema.parse({ id: 'mw', type: 'mailwizz', url: `${fake.url}/v2`, apiKey: API_KEY }),
      recordingDeps(),
    );
    await expect(wrongPath.unsubscribeFromList(ref, ctx)).rejects.toMatchObject({
      kind: 'permanent',
      status: 404,
    });
    // A web server or proxy in front answering 404 without MailWizz's JSON.
    fake.http.inject({ status: 404 });
    await expect(provider().unsubscribeFromList(ref, ctx)).rejects.toMatchObject({
      kind: 'permanent',
      status: 404,
    });
    expect(fake.subscriber(uid)?.status).toBe('confirmed');
    // MailWizz's own answer for a subscriber that is gone stays a final not-found.
    const gone = await provider().unsubscribeFromList({ ...ref, subscriberId: 'zz999yy888xx7' }, ctx);
    expect(gone.lists).toEqual([{ listId: list, outcome: 'not-found' }]);
  });

  it.each([
    ['plain', "o'neil&co@example.com", "o'neil&co@example.com"],
    ['html', "o'neil&co@example.com", "o'neil&co@example.com"],
    ['masked', 'john@example.com', undefined],
  ] as const)(
    'findEmail reads a %s EMAIL with one call (a masked one is no address)',
    async (recordEmail, email, expected) => {
      fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY, recordEmail });
      const list = fake.addList('News');
      const uid = fake.addSubscriber(list, email);
      const found = await provider().findEmail?.({
        providerType: 'mailwizz',
        listId: list,
        subscriberId: uid,
      });
      expect(found).toEqual({ email: expected, calls: 1 });
      const gone = await provider().findEmail?.({
        providerType: 'mailwizz',
        listId: list,
        subscriberId: 'zz999yy888xx7',
      });
      expect(gone).toEqual({ email: undefined, calls: 1 });
    },
  );

  it('rejects unknown config keys and non-http URLs', () => {
    const base = { id: 'mw', type: 'mailwizz', url: 'https://mw.example.com/api', apiKey: 'k' };
    expect(mailwizzConfigSchema.safeParse(base).success).toBe(true);
    expect(mailwizzConfigSchema.safeParse({ ...base, apikey: 'typo' }).success).toBe(false);
    expect(mailwizzConfigSchema.safeParse({ ...base, url: 'ftp://mw.example.com' }).success).toBe(false);
  });
});
