/**
 * `pmta-bounce serve` over real HTTP, as a mail client, a link scanner and an attacker would use
 * it: the real CLI process, SQLite state, the MailWizz adapter against the protocol fake
 * (docs/unsubscribe.md, "One-click"; docs/security.md, "One-click HTTP").
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aes256GcmCipher } from '#adapters/crypto/aes-256-gcm.ts';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { sealAddressToken } from '#core/unsubscribe/one-click-token.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { eventually, type ServeRun, spawnServe } from '#test/support/serve-process.ts';

const API_KEY = 'f'.repeat(40);
const KEY = { id: 'k2', secret: 's'.repeat(48) };
const RETIRED = { id: 'k1', secret: 'r'.repeat(48) };
const ONE_CLICK = 'List-Unsubscribe=One-Click';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-serve-'));

let fake: FakeMailwizzServer;
let serve: ServeRun;
let list: string;
let campaign: string;
let clientNo = 0;
const state = join(dir, 'state.db');

/** Each test its own client address (X-Forwarded-For is trusted in this config). */
function client(): Record<string, string> {
  clientNo += 1;
  return { 'x-forwarded-for': `192.0.2.${clientNo}` };
}

function linkFor(email: string): { subscriber: string; path: string } {
  const subscriber = fake.addSubscriber(list, email);
  const token = signUnsubscribeToken(
    { subscriberId: subscriber, listId: list, campaignId: campaign },
    KEY,
    hmacSha256,
  );
  return { subscriber, path: `/u/${token}` };
}

function post(path: string, headers: Record<string, string>, body: string = ONE_CLICK) {
  return fetch(`${serve.url}${path}`, { method: 'POST', headers: { ...FORM, ...headers }, body });
}

function rows(table: string): number {
  const db = new Database(state, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
  list = fake.addList('News');
  campaign = fake.addCampaign();
  const config = join(dir, 'pmta-bounce.config.yaml');
  writeFileSync(
    config,
    [
      'providers:',
      '  - id: mw',
      '    type: mailwizz',
      `    url: ${fake.url}`,
      '    apiKey: ${MW_KEY}',
      '    maxRetries: 0',
      'unsubscribe:',
      '  signing:',
      '    keys:',
      `    - { id: ${KEY.id}, secret: "\${SIGNING_KEY}" }`,
      '  oneClick:',
      '    trustForwardedFor: true',
      `    listNames: { ${list}: Weekly News }`,
      '    rateLimit: { windowSeconds: 60, perClient: 50, global: 100000 }',
      '',
    ].join('\n'),
  );
  serve = await spawnServe(['--config', config, '--state', state], {
    MW_KEY: API_KEY,
    SIGNING_KEY: KEY.secret,
  });
}, 60_000);
afterAll(async () => {
  await serve?.stop();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('pmta-bounce serve', () => {
  it('answers /healthz', async () => {
    const res = await fetch(`${serve.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('ok\n');
  });

  it('GET and HEAD by a link scanner change nothing; the page names the list and carries no script', async () => {
    const { subscriber, path } = linkFor('scanned@example.com');
    const mutations = fake.mutatingRequests();
    const headers = { ...client(), 'user-agent': 'LinkScanner/1.0' };
    const get = await fetch(`${serve.url}${path}`, { headers });
    const html = await get.text();
    expect(get.status).toBe(200);
    expect(html).toContain('Weekly News');
    expect(html).toContain('name="List-Unsubscribe" value="One-Click"');
    expect(html).not.toMatch(/<script|https?:\/\//i);
    expect(get.headers.get('content-security-policy')).toContain("default-src 'none'");
    const head = await fetch(`${serve.url}${path}`, { method: 'HEAD', headers });
    expect(head.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.mutatingRequests()).toBe(mutations);
    expect(fake.subscriber(subscriber)?.status).toBe('confirmed');
  });

  it('a one-click POST unsubscribes exactly once; a repeat answers 200 and calls no provider', async () => {
    const { subscriber, path } = linkFor('jane@example.com');
    const before = fake.mutatingRequests();
    const first = await post(path, client());
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('You are unsubscribed');
    expect(await eventually(() => fake.subscriber(subscriber)?.status === 'unsubscribed')).toBe(true);
    expect(await eventually(() => rows('outbox') === 0)).toBe(true);
    expect(fake.mutatingRequests()).toBe(before + 1);
    const again = await post(path, client());
    expect(again.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.mutatingRequests()).toBe(before + 1);
  });

  it('accepts the multipart form of RFC 8058', async () => {
    const { subscriber, path } = linkFor('multi@example.com');
    const body = new FormData();
    body.set('List-Unsubscribe', 'One-Click');
    const res = await fetch(`${serve.url}${path}`, { method: 'POST', headers: client(), body });
    expect(res.status).toBe(200);
    expect(await eventually(() => fake.subscriber(subscriber)?.status === 'unsubscribed')).toBe(true);
  });

  it('a sealed-address token unsubscribes that address, which never appears in the URL or the log', async () => {
    const subscriber = fake.addSubscriber(list, 'sealed.person@example.com');
    const token = sealAddressToken('sealed.person@example.com', KEY, aes256GcmCipher);
    expect(token).not.toContain('sealed.person');
    expect((await post(`/u/${token}`, client())).status).toBe(200);
    expect(await eventually(() => fake.subscriber(subscriber)?.status === 'unsubscribed')).toBe(true);
    expect(serve.stderr()).not.toContain('sealed.person');
  });

  it.each([
    ['a POST without the one-click body', (p: string) => p, 'x=1', 400],
    ['a malformed token', () => '/u/not-a-token', ONE_CLICK, 400],
    ['a tampered tag', (p: string) => `${p.slice(0, -1)}${p.endsWith('a') ? 'b' : 'a'}`, ONE_CLICK, 403],
    [
      'other ids under a valid tag',
      (p: string) => p.replace('/u/', '/u/').replace(/^\/u\/./, '/u/z'),
      ONE_CLICK,
      403,
    ],
    ['an unsigned token', (p: string) => p.slice(0, p.lastIndexOf('.')), ONE_CLICK, 403],
    [
      'a key rotated out',
      () =>
        `/u/${signUnsubscribeToken({ subscriberId: 'a'.repeat(13), listId: list, campaignId: campaign }, RETIRED, hmacSha256)}`,
      ONE_CLICK,
      404,
    ],
  ])('%s changes nothing (%#)', async (_name, change, body, status) => {
    const { subscriber, path } = linkFor(`refused${clientNo}@example.com`);
    const mutations = fake.mutatingRequests();
    const suppressions = rows('suppressions');
    const res = await post(change(path), client(), body);
    expect(res.status).toBe(status);
    if (status === 404) expect(await res.text()).toContain('This link is no longer valid');
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.mutatingRequests()).toBe(mutations);
    expect(rows('suppressions')).toBe(suppressions);
    expect(fake.subscriber(subscriber)?.status).toBe('confirmed');
  });

  it('a flood of random tokens changes nothing, state does not grow, and the client gets 429 + Retry-After', async () => {
    const headers = client();
    const mutations = fake.mutatingRequests();
    const counts = {
      suppressions: rows('suppressions'),
      audit: rows('audit_trail'),
      outbox: rows('outbox'),
      rate: rows('rate_counters'),
    };
    const statuses = new Map<number, number>();
    let retryAfter: string | null = null;
    for (let batch = 0; batch < 10; batch += 1) {
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => {
          const token = `${Math.random().toString(36).slice(2, 15).padEnd(13, 'x')}.${list}.${campaign}.k2${'x'.repeat(20)}`;
          return i % 2 === 0 ? post(`/u/${token}`, headers) : fetch(`${serve.url}/u/${token}`, { headers });
        }),
      );
      for (const r of replies) {
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
        await r.arrayBuffer();
      }
    }
    expect([...statuses.keys()].sort()).toEqual([403, 429]);
    expect(statuses.get(403)).toBe(50);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(fake.mutatingRequests()).toBe(mutations);
    expect({
      suppressions: rows('suppressions'),
      audit: rows('audit_trail'),
      outbox: rows('outbox'),
      rate: rows('rate_counters'),
    }).toEqual(counts);
  });

  it('during a provider outage: answers 200, unsubscribes later, nothing lost', async () => {
    const { subscriber, path } = linkFor('outage@example.com');
    fake.http.inject({ status: 503, times: 1 });
    expect((await post(path, client())).status).toBe(200);
    expect(rows('outbox')).toBeGreaterThan(0);
    expect(fake.subscriber(subscriber)?.status).toBe('confirmed');
    // The drainer tries again after its first pause (2 s) without anyone running `retry`.
    expect(await eventually(() => fake.subscriber(subscriber)?.status === 'unsubscribed', 15_000)).toBe(true);
    expect(await eventually(() => rows('outbox') === 0)).toBe(true);
  }, 30_000);
});
