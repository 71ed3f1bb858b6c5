/**
 * `pmta-bounce process` run in-process against the listmonk, Mautic and MailWizz
 * (`bounceAs: campaign-bounce`) fakes, with the same subscribers and accounting records at each:
 * shared by the integration test and the list-manager fault rows.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '#cli/cli-io.ts';
import { main } from '#cli/main.ts';
import type { FakeServer } from '#sandbox/fakes/fake-http-server.ts';
import { FakeListmonkServer, LISTMONK_ENDPOINTS } from '#sandbox/fakes/fake-listmonk-server.ts';
import { FakeMailwizzServer, MAILWIZZ_ENDPOINTS } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeMauticServer, MAUTIC_ENDPOINTS } from '#sandbox/fakes/fake-mautic-server.ts';

const TOKEN = 'fake-integration-token-0000000001';

/** `pmta-bounce ARGV` in-process; `env` holds the credentials the configuration names. */
async function runCli(
  argv: string[],
  env: Record<string, string> = { TOKEN },
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
    env,
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

/** Harness factories by name; `tuning` is the provider keys' calling discipline (YAML flow). */
const LIST_MANAGER_HARNESSES: Record<string, (tuning?: string) => Promise<Harness & { campaign?: string }>> =
  {
    'listmonk (bounce webhook)': async (tuning = 'maxRetries: 0') => {
      const fake = await FakeListmonkServer.start({ username: 'api', token: TOKEN });
      const [a, b] = [fake.addList(), fake.addList()];
      for (const email of SUBSCRIBED) fake.subscribe(email, a);
      fake.subscribe('two@example.com', b);
      return {
        http: fake.http,
        mutating: LISTMONK_ENDPOINTS.webhook,
        config: [
          `  - { id: lm, type: listmonk, url: "${fake.url}", username: api, token: "\${TOKEN}", ${tuning} }`,
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
    'Mautic (DNC)': async (tuning = 'maxRetries: 0') => {
      const fake = await FakeMauticServer.start({ clientId: 'client', clientSecret: TOKEN });
      const segment = fake.addSegment();
      for (const email of SUBSCRIBED) fake.addContact(email, segment);
      return {
        http: fake.http,
        mutating: MAUTIC_ENDPOINTS.dncAdd,
        config: [
          `  - { id: mautic, type: mautic, url: "${fake.url}", clientId: client, clientSecret: "\${TOKEN}", ${tuning} }`,
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
    'MailWizz (bounceAs campaign-bounce)': async (tuning = 'maxRetries: 0') => {
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
          `  - { id: mw, type: mailwizz, url: "${fake.url}", apiKey: "\${TOKEN}", bounceAs: campaign-bounce, ${tuning} }`,
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

function harnessFiles(dir: string, name: string, harness: Harness, campaign?: string) {
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

export type { Harness };
export { accounting, harnessFiles, LIST_MANAGER_HARNESSES, ONCE_EACH, runCli, SUBSCRIBED, TOKEN };
