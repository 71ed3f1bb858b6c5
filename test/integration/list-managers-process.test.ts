/**
 * `pmta-bounce process` (in-process, SQLite state in a temp dir) against the listmonk, Mautic and
 * MailWizz (`bounceAs: campaign-bounce`) fakes: every hard bounce and complaint reaches the
 * provider exactly once per subscriber (one bounce post per action in listmonk's bounce mode), a
 * second run makes no call, and answers lost after the change are retried to the same end.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { CliIo } from '#cli/cli-io.ts';
import { main } from '#cli/main.ts';
import type { FakeServer } from '#sandbox/fakes/fake-http-server.ts';
import { FakeListmonkServer, LISTMONK_ENDPOINTS } from '#sandbox/fakes/fake-listmonk-server.ts';
import { FakeMailwizzServer, MAILWIZZ_ENDPOINTS } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeMauticServer, MAUTIC_ENDPOINTS } from '#sandbox/fakes/fake-mautic-server.ts';

const TOKEN = 'fake-integration-token-0000000001';
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-lm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(
  argv: string[],
): Promise<{ code: number; summary: Record<string, unknown>; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => {
    stdout += d;
  });
  err.on('data', (d) => {
    stderr += d;
  });
  const io: CliIo = {
    stdin: Readable.from(['']),
    stdout: out,
    stderr: err,
    env: { TOKEN },
    now: () => Date.now(),
  };
  const code = await main(argv, io);
  return { code, summary: JSON.parse(stdout) as Record<string, unknown>, stderr };
}

/** The subscribers every provider fake holds, and what happens to them. */
const SUBSCRIBED = ['one@example.com', 'two@example.com', 'three@example.com', 'kept@example.com'];

interface Harness {
  http: FakeServer;
  /** The endpoint whose answer a fault loses after the change took effect. */
  mutating: string;
  /** The provider's lines of the configuration file. */
  config: string[];
  /** Writes that took effect per address (bounce posts, DNC adds, campaign bounces + unsubscribes). */
  writesPerAddress(): Record<string, number>;
  close(): Promise<void>;
}

function accounting(campaign = ''): string {
  const job = campaign ? `mailwizz-${campaign}` : '';
  return [
    'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,jobId',
    `b,1764000000,news@example.com,one@example.com,5.1.1,smtp;550 5.1.1 no such user,bad-mailbox,${job}`,
    `b,1764000001,news@example.com,two@example.com,5.1.1,smtp;550 5.1.1 no such user,bad-mailbox,${job}`,
    `b,1764000002,news@example.com,Two@Example.com,5.1.1,smtp;550 5.1.1 no such user,bad-mailbox,${job}`,
    `f,1764000003,news@example.com,three@example.com,,,,${job}`,
    `b,1764000004,news@example.com,nobody@example.com,5.1.1,smtp;550 5.1.1 no such user,bad-mailbox,${job}`,
    `d,1764000005,news@example.com,kept@example.com,2.0.0,,,${job}`,
    '',
  ].join('\n');
}

const HARNESSES: Record<string, () => Promise<Harness & { campaign?: string }>> = {
  'listmonk (bounce webhook)': async () => {
    const fake = await FakeListmonkServer.start({ username: 'api', token: TOKEN });
    const [a, b] = [fake.addList(), fake.addList()];
    for (const email of SUBSCRIBED) fake.subscribe(email, a);
    fake.subscribe('two@example.com', b);
    return {
      http: fake.http,
      mutating: LISTMONK_ENDPOINTS.webhook,
      config: [
        `  - { id: lm, type: listmonk, url: "${fake.url}", username: api, token: "\${TOKEN}", maxRetries: 0 }`,
      ],
      writesPerAddress: () => {
        const out: Record<string, number> = {};
        for (const bounce of fake.bounces) {
          const email = fake.subscribers.find((s) => s.id === bounce.subscriberId)!.email;
          out[email] = (out[email] ?? 0) + 1;
        }
        return out;
      },
      close: () => fake.close(),
    };
  },
  'Mautic (DNC)': async () => {
    const fake = await FakeMauticServer.start({ clientId: 'client', clientSecret: TOKEN });
    const segment = fake.addSegment();
    for (const email of SUBSCRIBED) fake.addContact(email, segment);
    return {
      http: fake.http,
      mutating: MAUTIC_ENDPOINTS.dncAdd,
      config: [
        `  - { id: mautic, type: mautic, url: "${fake.url}", clientId: client, clientSecret: "\${TOKEN}", maxRetries: 0 }`,
      ],
      // A DNC counts once however often it was sent: the fake's effects count state changes.
      writesPerAddress: () =>
        Object.fromEntries(
          fake.contacts
            .filter((c) => c.dnc)
            .map((c) => [c.email, [...c.changes.values()].reduce((x, y) => x + y, 0)]),
        ),
      close: () => fake.close(),
    };
  },
  'MailWizz (bounceAs campaign-bounce)': async () => {
    const fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: TOKEN });
    const [a, b] = [fake.addList(), fake.addList()];
    for (const email of SUBSCRIBED) fake.addSubscriber(a, email);
    fake.addSubscriber(b, 'two@example.com');
    const campaign = fake.addCampaign();
    return {
      http: fake.http,
      campaign,
      mutating: MAILWIZZ_ENDPOINTS.bounce,
      config: [
        `  - { id: mw, type: mailwizz, url: "${fake.url}", apiKey: "\${TOKEN}", bounceAs: campaign-bounce, maxRetries: 0 }`,
      ],
      writesPerAddress: () => {
        const out: Record<string, number> = {};
        for (const bounce of fake.bounces) {
          const email = fake.subscriber(bounce.subscriberUid)!.email;
          out[email] = (out[email] ?? 0) + 1;
        }
        // The complaint keeps its unsubscribe semantics: count its status change.
        for (const s of fake.subscribers)
          if (s.status === 'unsubscribed') out[s.email] = (out[s.email] ?? 0) + s.changes;
        return out;
      },
      close: () => fake.close(),
    };
  },
};

let current: Harness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

function files(name: string, harness: Harness, campaign?: string) {
  const slug = name.replace(/\W+/g, '-');
  const config = join(dir, `${slug}.yaml`);
  writeFileSync(config, ['providers:', ...harness.config, ''].join('\n'));
  const input = join(dir, `${slug}.csv`);
  writeFileSync(input, accounting(campaign));
  const empty = join(dir, 'empty.csv');
  writeFileSync(empty, '');
  return { config, input, empty, state: (tag: string) => join(dir, `${slug}-${tag}.db`) };
}

// two@ has two subscriptions at listmonk and MailWizz: still one write (one action per address).
const ONCE_EACH = { 'one@example.com': 1, 'two@example.com': 1, 'three@example.com': 1 };

describe.each(Object.keys(HARNESSES))('process against %s', (name) => {
  it('reaches the provider once per subscriber; a second run makes no call', async () => {
    const harness = await HARNESSES[name]!();
    current = harness;
    const f = files(name, harness, harness.campaign);
    const first = await run(['process', f.input, '--config', f.config, '--state', f.state('a'), '--json']);
    expect(first.code).toBe(0);
    expect(first.summary).toMatchObject({ unsubscribed: 4, failed: 0 });
    expect(harness.writesPerAddress()).toEqual(ONCE_EACH);
    const requests = harness.http.totalRequests();
    const again = await run(['process', f.input, '--config', f.config, '--state', f.state('a'), '--json']);
    expect(again.summary).toMatchObject({ unsubscribed: 0, alreadySuppressed: 5, failed: 0 });
    expect(Object.values(again.summary.providerCalls as Record<string, number>)).toEqual([0]);
    expect(harness.http.totalRequests()).toBe(requests);
  });

  it('answers lost after the change: the pending actions are retried to the same end, once each', async () => {
    const harness = await HARNESSES[name]!();
    current = harness;
    const f = files(name, harness, harness.campaign);
    harness.http.inject({ endpoint: harness.mutating, phase: 'after', status: 503, times: 2 });
    const first = await run(['process', f.input, '--config', f.config, '--state', f.state('b'), '--json']);
    expect(first.code).toBe(3);
    expect(first.summary).toMatchObject({ failed: 2 });
    const retry = await run(['process', f.empty, '--config', f.config, '--state', f.state('b'), '--json']);
    expect(retry.code).toBe(0);
    expect(retry.stderr).toContain('retrying 2 pending action(s) from earlier runs');
    expect(retry.summary).toMatchObject({ failed: 0 });
    expect(harness.writesPerAddress()).toEqual(ONCE_EACH);
    const requests = harness.http.totalRequests();
    const third = await run(['process', f.empty, '--config', f.config, '--state', f.state('b'), '--json']);
    expect(third.summary).toMatchObject({ failed: 0 });
    expect(harness.http.totalRequests()).toBe(requests);
  });
});
