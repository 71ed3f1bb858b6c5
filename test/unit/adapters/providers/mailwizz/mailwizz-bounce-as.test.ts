/**
 * MailWizz `bounceAs` against the MailWizz fake: unsubscribe (the default), blacklist, and
 * campaign-bounce with and without a campaign uid (the fallback), for hard bounces only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionContext } from '#core/ports.ts';
import { mailwizzConfigSchema, mailwizzProvider } from '#providers/mailwizz/mailwizz.ts';
import { FakeMailwizzServer, MAILWIZZ_ENDPOINTS } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { recordingDeps } from '#test/contract/list-provider-contract.ts';

const API_KEY = 'f00dfeedf00dfeedf00dfeedf00dfeedf00d0001';
const EMAIL = 'gone@example.com';

let fake: FakeMailwizzServer;
afterEach(() => fake?.close());

async function start() {
  fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
  return fake;
}

function provider(extra: Record<string, unknown>) {
  return mailwizzProvider.create(
    mailwizzConfigSchema.parse({ id: 'mw', type: 'mailwizz', url: fake.url, apiKey: API_KEY, ...extra }),
    recordingDeps(),
  );
}

const bounce = (jobId?: string, kind: ActionContext['kind'] = 'bounce'): ActionContext => ({
  actionId: EMAIL,
  kind,
  reason: 'category=bad-mailbox bounceCat: hard bounce',
  diagnostic: 'smtp;550 5.1.1 user unknown',
  ...(jobId ? { jobId } : {}),
});

/** Two lists with the address confirmed; the second list requires FNAME. */
function seed(status = 'confirmed'): [string, string] {
  const first = fake.addSubscriber(fake.addList('News'), EMAIL, status);
  const list = fake.addList('Deals');
  fake.lists.get(list)!.required.push('FNAME');
  const second = fake.addSubscriber(list, EMAIL);
  fake.subscriber(second)!.fields.FNAME = 'Gone';
  return [first, second];
}

const statuses = (uids: string[]) => uids.map((u) => fake.subscriber(u)?.status);

describe('MailWizz bounceAs', () => {
  it('unsubscribe (default): one bulk unsubscribe, nothing blacklisted', async () => {
    await start();
    const uids = seed();
    const result = await provider({}).unsubscribeEverywhere(EMAIL, bounce(`mailwizz-${fake.addCampaign()}`));
    expect(result.calls).toBe(2);
    expect(statuses(uids)).toEqual(['unsubscribed', 'unsubscribed']);
    expect(fake.bounces).toEqual([]);
    expect(fake.blacklist.size).toBe(0);
  });

  it('blacklist: each subscription blacklisted with its required fields sent back; the global blacklist untouched', async () => {
    await start();
    const uids = seed();
    const result = await provider({ bounceAs: 'blacklist' }).unsubscribeEverywhere(EMAIL, bounce());
    expect(result.lists.map((l) => l.outcome)).toEqual(['done', 'done']);
    expect(result.calls).toBe(5); // search, then read + update per subscription
    expect(statuses(uids)).toEqual(['blacklisted', 'blacklisted']);
    expect(fake.blacklist.size).toBe(0);
    const mutating = fake.mutatingRequests();
    const again = await provider({ bounceAs: 'blacklist' }).unsubscribeEverywhere(EMAIL, bounce());
    expect(again.lists.map((l) => l.outcome)).toEqual(['already', 'already']);
    expect(fake.mutatingRequests()).toBe(mutating);
  });

  it('campaign-bounce with the campaign uid: one bounce, MailWizz blacklists every confirmed row', async () => {
    await start();
    const uids = seed();
    const campaign = fake.addCampaign();
    const result = await provider({ bounceAs: 'campaign-bounce' }).unsubscribeEverywhere(
      EMAIL,
      bounce(`mailwizz-${campaign}`),
    );
    expect(result.lists.map((l) => l.outcome)).toEqual(['done', 'done']);
    expect(fake.bounces).toEqual([{ campaignUid: campaign, subscriberUid: uids[0], type: 'hard' }]);
    expect(fake.blacklist.has(EMAIL)).toBe(true);
    expect(statuses(uids)).toEqual(['blacklisted', 'blacklisted']);
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.bounce)).toBe(1);
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.unsubscribeAll)).toBe(0);
    expect(result.calls).toBe(2);
  });

  it('campaign-bounce: the bounce goes on the confirmed subscription; the email blacklist covers the rest', async () => {
    await start();
    const uids = seed('unconfirmed');
    const campaign = fake.addCampaign();
    const result = await provider({ bounceAs: 'campaign-bounce' }).unsubscribeEverywhere(
      EMAIL,
      bounce(`mailwizz-${campaign}`),
    );
    expect(result.calls).toBe(2);
    expect(fake.bounces.map((b) => b.subscriberUid)).toEqual([uids[1]]);
    // MailWizz blacklists confirmed rows only; the address is in its blacklist, checked before sending.
    expect(statuses(uids)).toEqual(['unconfirmed', 'blacklisted']);
    expect(fake.blacklist.has(EMAIL)).toBe(true);
  });

  it('campaign-bounce with an address already blacklisted: one bounce, no bulk unsubscribe undoing it', async () => {
    await start();
    const uids = seed();
    fake.blacklist.add(EMAIL);
    const campaign = fake.addCampaign();
    await provider({ bounceAs: 'campaign-bounce', bounceFallback: 'unsubscribe' }).unsubscribeEverywhere(
      EMAIL,
      bounce(`mailwizz-${campaign}`),
    );
    expect(statuses(uids)[0]).toBe('blacklisted');
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.unsubscribeAll)).toBe(0);
    expect(fake.http.count(MAILWIZZ_ENDPOINTS.bounce)).toBe(1);
  });

  it.each([
    { fallback: 'blacklist', jobId: undefined, expected: ['blacklisted', 'blacklisted'], bulk: 0 },
    { fallback: 'unsubscribe', jobId: undefined, expected: ['unsubscribed', 'unsubscribed'], bulk: 1 },
    {
      fallback: 'blacklist',
      jobId: 'mailwizz-zz000zz000zz0',
      expected: ['blacklisted', 'blacklisted'],
      bulk: 0,
    },
    { fallback: 'unsubscribe', jobId: 'newsletter-42', expected: ['unsubscribed', 'unsubscribed'], bulk: 1 },
  ])(
    'campaign-bounce without a known campaign ($jobId) falls back to $fallback',
    async ({ fallback, jobId, expected, bulk }) => {
      await start();
      const uids = seed();
      const result = await provider({
        bounceAs: 'campaign-bounce',
        bounceFallback: fallback,
      }).unsubscribeEverywhere(EMAIL, bounce(jobId));
      expect(result.lists.map((l) => l.outcome)).toEqual(['done', 'done']);
      expect(statuses(uids)).toEqual(expected);
      expect(fake.bounces).toEqual([]);
      expect(fake.blacklist.size).toBe(0);
      expect(fake.http.count(MAILWIZZ_ENDPOINTS.unsubscribeAll)).toBe(bulk);
    },
  );

  it.each(['blacklist', 'campaign-bounce'])('%s leaves complaints to the unsubscribe', async (bounceAs) => {
    await start();
    const uids = seed();
    await provider({ bounceAs }).unsubscribeEverywhere(
      EMAIL,
      bounce(`mailwizz-${fake.addCampaign()}`, 'complaint'),
    );
    expect(statuses(uids)).toEqual(['unsubscribed', 'unsubscribed']);
    expect(fake.bounces).toEqual([]);
  });

  it('by subscriber ids: campaign-bounce uses the ref campaign; blacklist touches that list only', async () => {
    await start();
    const [first, second] = seed();
    const list = fake.subscriber(first)!.listUid;
    const campaign = fake.addCampaign();
    const ref = { providerType: 'mailwizz', listId: list, subscriberId: first, campaignId: campaign };
    const result = await provider({ bounceAs: 'campaign-bounce' }).unsubscribeFromList(ref, bounce());
    expect(result.lists).toEqual([{ listId: list, outcome: 'done', previousStatus: 'confirmed' }]);
    expect(fake.bounces.map((b) => b.campaignUid)).toEqual([campaign]);
    await fake.close();
    await start();
    const [a, b] = seed();
    const byIds = { providerType: 'mailwizz', listId: fake.subscriber(b)!.listUid, subscriberId: b };
    await provider({ bounceAs: 'blacklist' }).unsubscribeFromList(byIds, bounce());
    expect(statuses([a, b])).toEqual(['confirmed', 'blacklisted']);
    expect(second).toBeDefined();
  });

  it('blacklist works signed (1.x): the nested details[status] field is part of the signature', async () => {
    const privateKey = 'f00dfeedf00dfeedf00dfeedf00dfeedf00d0002';
    fake = await FakeMailwizzServer.start({ mode: 'v1', apiKey: API_KEY, privateKey });
    const uids = seed();
    const result = await provider({ bounceAs: 'blacklist', privateKey }).unsubscribeEverywhere(
      EMAIL,
      bounce(),
    );
    expect(result.lists.map((l) => l.outcome)).toEqual(['done', 'done']);
    expect(statuses(uids)).toEqual(['blacklisted', 'blacklisted']);
  });

  it('refuses reportBounces with a bounceAs other than unsubscribe', () => {
    const parsed = mailwizzConfigSchema.safeParse({
      id: 'mw',
      type: 'mailwizz',
      url: 'https://mw.example.com/api',
      apiKey: 'k',
      reportBounces: true,
      bounceAs: 'campaign-bounce',
    });
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['reportBounces'] });
  });
});
