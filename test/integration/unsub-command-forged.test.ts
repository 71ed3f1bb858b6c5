/**
 * The local pipe (`pmta-bounce unsub`) gets the same defences as the SES path (docs/security.md,
 * "PowerMTA pipe"): it has no verdicts, so signing and the provider's word on the subscription
 * matter more. Real local wiring: SQLite state, the MailWizz adapter against its protocol fake.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import type { CliIo } from '#cli/cli-io.ts';
import { EXIT_TEMPFAIL, unsubCommand } from '#cli/unsub-command.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';

const MAIL = readFileSync(
  new URL('../fixtures/eml/icloud-mailto-unsubscribe-mailwizz.eml', import.meta.url),
  'utf8',
);
const API_KEY = 'f'.repeat(40);
const SIGNING_KEY = 'a-local-signing-key-of-32-characters-or-more';
const NOW = 1_800_000_000_000;
const ENV = { MW_KEY: API_KEY, UNSUB_KEY: SIGNING_KEY };
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-unsub-forged-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(env: Record<string, string> = ENV) {
  const out = { stdout: '', stderr: '' };
  const stdout = new PassThrough().on('data', (d) => {
    out.stdout += d;
  });
  const stderr = new PassThrough().on('data', (d) => {
    out.stderr += d;
  });
  const cliIo: CliIo = { stdin: Readable.from([Buffer.from(MAIL)]), stdout, stderr, env, now: () => NOW };
  return { io: cliIo, out };
}

describe('pmta-bounce unsub against forged mail', () => {
  let fake: FakeMailwizzServer;
  let list: string;
  let subscriber: string;
  let campaign: string;

  beforeAll(async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    list = fake.addList('News');
    subscriber = fake.addSubscriber(list, 'jane@example.com');
    campaign = fake.addCampaign();
  });
  afterAll(() => fake?.close());

  function config(name: string, unsubscribe: string[]): string {
    const path = join(dir, `${name}.yaml`);
    writeFileSync(
      path,
      [
        'providers:',
        '  - id: mw',
        '    type: mailwizz',
        `    url: ${fake.url}`,
        '    apiKey: ${MW_KEY}',
        '    maxRetries: 0',
        'unsubscribe:',
        '  domains: [unsub.example.com]',
        ...unsubscribe,
        '',
      ].join('\n'),
    );
    return path;
  }

  const run = async (args: string[]) => {
    const r = io();
    const code = await unsubCommand([...args, '--json'], r.io);
    return { code, out: r.out.stdout ? JSON.parse(r.out.stdout) : undefined, stderr: r.out.stderr };
  };

  it('signing on: an unsigned address is refused, the signed one unsubscribes', async () => {
    const path = config('signed', [
      '  signing:',
      '    keys:',
      '      - id: k1',
      '        secret: ${UNSUB_KEY}',
    ]);
    const state = join(dir, 'signed.db');
    const ids = { subscriberId: subscriber, listId: list, campaignId: campaign };
    const unsigned = `${subscriber}.${list}.${campaign}@unsub.example.com`;
    const refused = await run(['--to', unsigned, '--config', path, '--state', state]);
    expect(refused.code).toBe(0);
    expect(refused.out.recipients).toMatchObject([{ verdict: 'unsigned' }]);
    expect(fake.subscriber(subscriber)?.status).toBe('confirmed');

    const signed = `${signUnsubscribeToken(ids, { id: 'k1', secret: SIGNING_KEY }, hmacSha256)}@unsub.example.com`;
    const accepted = await run(['--to', signed, '--config', path, '--state', state]);
    expect(accepted.code).toBe(0);
    expect(accepted.out.recipients).toMatchObject([{ verdict: 'accepted' }]);
    expect(fake.subscriber(subscriber)?.status).toBe('unsubscribed');
    // The provider confirmed the subscription: the suppression is permanent.
    const store = new SqliteSuppressionStore({ path: state, now: () => NOW + 365 * 86_400_000 });
    expect((await store.status(`ref:mailwizz:${list}:${subscriber}`)).suppressed).toBeDefined();
    await store.close();
  });

  it('an invented subscriber uid leaves only a record that expires', async () => {
    const path = config('invented', []);
    const state = join(dir, 'invented.db');
    const subject = `ref:mailwizz:${list}:zz00000000000`;
    const result = await run([
      '--to',
      `zz00000000000.${list}.${campaign}@unsub.example.com`,
      '--config',
      path,
      '--state',
      state,
    ]);
    expect(result.code).toBe(0);
    const soon = new SqliteSuppressionStore({ path: state, now: () => NOW });
    expect((await soon.status(subject)).suppressed?.expiresAt).toBeGreaterThan(NOW);
    await soon.close();
    const later = new SqliteSuppressionStore({ path: state, now: () => NOW + 16 * 86_400_000 });
    const status = await later.status(subject);
    expect(status.suppressed).toBeUndefined();
    expect(status.audit).toEqual([]);
    await later.close();
  });

  it('over the rate limit: exit 75 (the MTA retries later), nothing written', async () => {
    const path = config('limited', ['  rateLimit:', '    perSenderDomain: 1']);
    const state = join(dir, 'limited.db');
    const to = (uid: string) => `${uid}.${list}.${campaign}@unsub.example.com`;
    const from = ['--from', 'someone@flood.example'];
    expect((await run([...from, '--to', to('yy00000000001'), '--config', path, '--state', state])).code).toBe(
      0,
    );
    const second = await run([...from, '--to', to('yy00000000002'), '--config', path, '--state', state]);
    expect(second.code).toBe(EXIT_TEMPFAIL);
    expect(second.out.recipients).toMatchObject([{ verdict: 'rate-limited' }]);
    const store = new SqliteSuppressionStore({ path: state, now: () => NOW });
    expect((await store.status(`ref:mailwizz:${list}:yy00000000002`)).suppressed).toBeUndefined();
    await store.close();
  });
});
