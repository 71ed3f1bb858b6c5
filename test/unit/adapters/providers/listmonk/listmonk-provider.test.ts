/**
 * listmonk specifics beyond the contract: what the bounce post carries, exactly one post per
 * action when an answer is lost, the configuration errors `check` must name, and the address
 * lookup's escaping.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { ActionContext } from '#core/ports.ts';
import { campaignUuidFromJobId, listmonkProvider } from '#providers/listmonk/listmonk.ts';
import { exactEmailPattern, sqlEmailCondition } from '#providers/listmonk/listmonk-api.ts';
import {
  type FakeListmonkOptions,
  FakeListmonkServer,
  LISTMONK_ENDPOINTS,
} from '#sandbox/fakes/fake-listmonk-server.ts';
import { recordingDeps } from '#test/contract/list-provider-contract.ts';

const USER = 'api';
const TOKEN = 'fakeListmonkToken000000000000001';
const CAMPAIGN = '5c4b3a2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d';

let fake: FakeListmonkServer | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function start(options: Partial<FakeListmonkOptions> = {}) {
  fake = await FakeListmonkServer.start({ username: USER, token: TOKEN, ...options });
  return fake;
}

function provider(server: FakeListmonkServer, extra: Record<string, unknown> = {}) {
  const config = listmonkProvider.configSchema.parse({
    id: 'lm',
    type: 'listmonk',
    url: server.url,
    username: USER,
    token: TOKEN,
    maxRetries: 2,
    ...extra,
  });
  return listmonkProvider.create(config, recordingDeps());
}

const bounce = (over: Partial<ActionContext> = {}): ActionContext => ({
  actionId: 'a@example.com',
  kind: 'bounce',
  reason: 'category=bad-mailbox bounceCat: hard bounce',
  category: 'bad-mailbox',
  rule: 'pmta',
  bounceType: 'hard',
  ...over,
});

describe('listmonk bounce mode', () => {
  it('posts type, source, campaign uuid and meta (category, rule, action id) once', async () => {
    const server = await start();
    server.subscribe('a@example.com', server.addList());
    await provider(server).unsubscribeEverywhere('A@example.com', bounce({ jobId: `listmonk-${CAMPAIGN}` }));
    expect(server.bounces).toEqual([
      {
        subscriberId: expect.any(Number),
        type: 'hard',
        source: 'pmta-bounce',
        campaignUuid: CAMPAIGN,
        meta: {
          action_id: 'a@example.com',
          reason: 'category=bad-mailbox bounceCat: hard bounce',
          category: 'bad-mailbox',
          rule: 'pmta',
          job_id: `listmonk-${CAMPAIGN}`,
        },
      },
    ]);
    expect(server.subscriberByEmail('a@example.com')?.status).toBe('blocklisted');
  });

  it.each([
    { kind: 'complaint' as const, bounceType: undefined, type: 'complaint' },
    { kind: 'bounce' as const, bounceType: 'soft' as const, type: 'soft' },
    { kind: 'bounce' as const, bounceType: undefined, type: 'hard' },
  ])('$kind with bounceType $bounceType posts type $type', async ({ kind, bounceType, type }) => {
    const server = await start();
    server.subscribe('b@example.com', server.addList());
    const context = bounce({ kind, ...(bounceType ? { bounceType } : { bounceType: undefined }) });
    await provider(server).unsubscribeEverywhere('b@example.com', context);
    expect(server.bounces.map((b) => b.type)).toEqual([type]);
  });

  it('a lost answer is not posted twice, within one run or in the next', async () => {
    const server = await start({ bounceActions: { soft: { count: 3, action: 'none' } } });
    server.subscribe('c@example.com', server.addList());
    server.subscribe('c2@example.com', server.addList());
    const lose = () =>
      server.http.inject({ endpoint: LISTMONK_ENDPOINTS.webhook, phase: 'after', status: 503 });
    // Within one run: the retry looks at the subscriber's bounces first and finds its own.
    lose();
    const context = bounce({ actionId: 'c@example.com', bounceType: 'soft' });
    const within = await provider(server).unsubscribeEverywhere('c@example.com', context);
    expect(within.lists.map((l) => l.outcome)).toEqual(['done']);
    expect(server.http.count(LISTMONK_ENDPOINTS.webhook)).toBe(1);
    // No retry left: the action fails and stays pending; the next run posts nothing more.
    lose();
    const next = bounce({ actionId: 'c2@example.com', bounceType: 'soft' });
    await expect(
      provider(server, { maxRetries: 0 }).unsubscribeEverywhere('c2@example.com', next),
    ).rejects.toThrow(/HTTP 503/);
    const again = await provider(server).unsubscribeEverywhere('c2@example.com', next);
    expect(again.lists.map((l) => l.outcome)).toEqual(['done']);
    expect(server.bounces.map((b) => b.meta.action_id)).toEqual(['c@example.com', 'c2@example.com']);
    expect(server.http.count(LISTMONK_ENDPOINTS.webhook)).toBe(2);
  });

  it('an unsubscribe request uses the subscribers API, not a bounce', async () => {
    const server = await start();
    const list = server.addList();
    const id = server.subscribe('d@example.com', list);
    await provider(server).unsubscribeEverywhere('d@example.com', bounce({ kind: 'unsubscribe' }));
    expect(server.bounces).toEqual([]);
    expect(server.isActive(id, list)).toBe(false);
    expect(server.subscriberById(id)?.status).toBe('enabled');
  });

  it('an unknown address costs one lookup and posts nothing', async () => {
    const server = await start();
    const result = await provider(server).unsubscribeEverywhere('nobody@example.com', bounce());
    expect(result).toMatchObject({ lists: [], calls: 1 });
    expect(server.mutatingRequests()).toBe(0);
  });
});

describe('listmonk configuration errors', () => {
  it('check names bounce processing being off (503) and the webhook being off (404)', async () => {
    const off = await start({ bounceEnabled: false });
    expect(await provider(off).checkCredentials()).toEqual({
      ok: false,
      detail: expect.stringMatching(/bounce processing is disabled.*503/),
    });
    await off.close();
    const noHook = await start({ webhooksEnabled: false });
    expect((await provider(noHook).checkCredentials()).detail).toMatch(/bounce webhook is disabled/);
    expect(await provider(noHook, { mode: 'unsubscribe' }).checkCredentials()).toMatchObject({ ok: true });
  });

  it('a bounce while bounce processing is off fails as a configuration error, not retried', async () => {
    const server = await start({ bounceEnabled: false });
    server.subscribe('e@example.com', server.addList());
    const error = await provider(server)
      .unsubscribeEverywhere('e@example.com', bounce())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'auth', retryable: true, status: 503 });
    expect((error as Error).message).toMatch(/bounce processing is disabled/);
    expect(server.http.count(LISTMONK_ENDPOINTS.webhook)).toBe(1);
  });

  it('check hints at the url when it points below the root', async () => {
    const server = await start();
    const check = await provider(server, { url: `${server.url}/api` }).checkCredentials();
    expect(check).toEqual({
      ok: false,
      detail: expect.stringMatching(/HTTP 404.*instance root, without \/api/),
    });
  });

  it('check names a missing permission', async () => {
    const server = await start({ permissions: ['subscribers:get_all', 'webhooks:post_bounce'] });
    expect((await provider(server).checkCredentials()).detail).toMatch(/permission denied: bounces:get/);
  });

  it('before v5 the search lookup is refused with the fix; lookup: query works', async () => {
    const server = await start({ version: 'v4' });
    const list = server.addList();
    const id = server.subscribe("o'brien+x@example.com", list);
    server.subscribe('other@example.com', list);
    const error = await provider(server, { mode: 'unsubscribe' })
      .unsubscribeEverywhere("o'brien+x@example.com", bounce())
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/set lookup: query/);
    const result = await provider(server, { mode: 'unsubscribe', lookup: 'query' }).unsubscribeEverywhere(
      "o'brien+x@example.com",
      bounce(),
    );
    expect(result.lists.map((l) => l.outcome)).toEqual(['done']);
    expect(server.isActive(id, list)).toBe(false);
    expect(server.subscriberByEmail('other@example.com')?.lists[0]?.status).toBe('confirmed');
  });
});

describe('listmonk helpers', () => {
  it.each([
    ['a.b+c@example.com', '^a\\.b\\+c@example\\.com$'],
    ['x(y)|z*@q.io', '^x\\(y\\)\\|z\\*@q\\.io$'],
  ])('exactEmailPattern(%s)', (email, pattern) => {
    expect(exactEmailPattern(email)).toBe(pattern);
    expect(new RegExp(pattern, 'i').test(email.toUpperCase())).toBe(true);
    expect(new RegExp(pattern, 'i').test(`x${email}`)).toBe(false);
  });

  it('sqlEmailCondition doubles quotes', () => {
    expect(sqlEmailCondition("O'Hara@x.io")).toBe("LOWER(subscribers.email) = 'o''hara@x.io'");
  });

  it.each([
    [CAMPAIGN, CAMPAIGN],
    [`listmonk-${CAMPAIGN.toUpperCase()}`, CAMPAIGN],
    ['mailwizz-ab123cd45ef67', undefined],
    [undefined, undefined],
  ])('campaignUuidFromJobId(%s)', (jobId, uuid) => {
    expect(campaignUuidFromJobId(jobId)).toBe(uuid);
  });
});
