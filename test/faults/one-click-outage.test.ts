/**
 * Fault row (docs/testing.md): the one-click endpoint under a provider outage, with a crash in the
 * middle. Twenty readers click while MailWizz answers 503; every POST gets its 200 at once; the
 * `serve` process is then stopped with actions still owed and started again on the same state; once
 * MailWizz is back, every reader is unsubscribed exactly once and nothing is left owed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { eventually, type ServeRun, spawnServe } from '#test/support/serve-process.ts';

const API_KEY = 'f'.repeat(40);
const KEY = { id: 'k1', secret: 'o'.repeat(48) };
const READERS = 20;
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-one-click-fault-'));
const state = join(dir, 'state.db');
const config = join(dir, 'pmta-bounce.config.yaml');
const env = { MW_KEY: API_KEY, SIGNING_KEY: KEY.secret };
let fake: FakeMailwizzServer;
let serve: ServeRun | undefined;

function owed(): number {
  const db = new Database(state, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
  writeFileSync(
    config,
    [
      'providers:',
      `  - { id: mw, type: mailwizz, url: "${fake.url}", apiKey: "\${MW_KEY}", maxRetries: 0 }`,
      'unsubscribe:',
      '  signing:',
      `    keys: [{ id: ${KEY.id}, secret: "\${SIGNING_KEY}" }]`,
      '  oneClick:',
      '    rateLimit: { windowSeconds: 60, perClient: 1000, global: 100000 }',
      '',
    ].join('\n'),
  );
}, 30_000);

afterAll(async () => {
  await serve?.stop();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('fault: one-click endpoint under a provider outage and a restart', () => {
  it('answers 200 at once, keeps every request through the restart, unsubscribes each reader once', async () => {
    const list = fake.addList('News');
    const campaign = fake.addCampaign();
    const readers = Array.from({ length: READERS }, (_, i) =>
      fake.addSubscriber(list, `reader${i}@example.com`),
    );
    // MailWizz down: the next 40 calls answer 503 (two passes of the outbox before it is back).
    fake.http.inject({ status: 503, times: 2 * READERS });
    serve = await spawnServe(['--config', config, '--state', state], env);
    const answers = await Promise.all(
      readers.map((subscriberId) => {
        const token = signUnsubscribeToken(
          { subscriberId, listId: list, campaignId: campaign },
          KEY,
          hmacSha256,
        );
        return fetch(`${serve!.url}/u/${token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        });
      }),
    );
    expect(answers.map((a) => a.status)).toEqual(readers.map(() => 200));
    expect(owed()).toBe(READERS);
    expect(readers.every((uid) => fake.subscriber(uid)?.status === 'confirmed')).toBe(true);

    // A crash (or a deploy) while the provider is still down: the owed actions are in the state.
    await serve.stop();
    expect(owed()).toBe(READERS);
    serve = await spawnServe(['--config', config, '--state', state], env);

    const allDone = () => readers.every((uid) => fake.subscriber(uid)?.status === 'unsubscribed');
    expect(await eventually(allDone, 60_000)).toBe(true);
    expect(await eventually(() => owed() === 0, 10_000)).toBe(true);
    expect(readers.map((uid) => fake.subscriber(uid)?.changes)).toEqual(readers.map(() => 1));
  }, 120_000);
});
