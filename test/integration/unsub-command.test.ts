/**
 * `pmta-bounce unsub` (PowerMTA `type pipe`) in-process: the message on stdin, the real local
 * wiring (SQLite state, MailWizz adapter against the protocol fake), or injected deps.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import type { CliIo } from '#cli/cli-io.ts';
import { processCommand } from '#cli/process-command.ts';
import { retryCommand } from '#cli/retry-command.ts';
import { EXIT_TEMPFAIL, type UnsubCommandDeps, type UnsubOutbox, unsubCommand } from '#cli/unsub-command.ts';
import type { Action } from '#core/act/action.ts';
import { parseConfig } from '#core/config-schema.ts';
import { createRouter } from '#core/decide/routing.ts';
import { StoreError } from '#core/errors.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { MemoryListProvider } from '#test/support/memory-list-provider.ts';
import { MemorySuppressionStore } from '#test/support/memory-suppression-store.ts';

const MAIL = readFileSync(
  new URL('../fixtures/eml/icloud-mailto-unsubscribe-mailwizz.eml', import.meta.url),
  'utf8',
);
const API_KEY = 'f'.repeat(40);
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-unsub-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io(stdin: string | Buffer, env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '' };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (d) => {
    out.stdout += d;
  });
  stderr.on('data', (d) => {
    out.stderr += d;
  });
  const cliIo: CliIo = {
    stdin: Readable.from([Buffer.from(stdin)]),
    stdout,
    stderr,
    env,
    now: () => 1_800_000_000_000,
  };
  return { io: cliIo, out };
}

describe('pmta-bounce unsub with the real local wiring', () => {
  let fake: FakeMailwizzServer;
  let list: string;
  let subscriber: string;
  let campaign: string;
  let config: string;

  beforeAll(async () => {
    fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    list = fake.addList('News');
    subscriber = fake.addSubscriber(list, 'jane@example.com');
    fake.addSubscriber(fake.addList('Deals'), 'jane@example.com');
    campaign = fake.addCampaign();
    config = join(dir, 'pmta-bounce.config.yaml');
    writeFileSync(
      config,
      [
        'providers:',
        '  - id: mw',
        '    type: mailwizz',
        `    url: ${fake.url}`,
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a config placeholder
        '    apiKey: ${MW_KEY}',
        '    maxRetries: 0',
        'unsubscribe:',
        '  domains: [Unsub.Example.com]',
        '',
      ].join('\n'),
    );
  });
  afterAll(() => fake?.close());

  it('unsubscribes the one subscription named by the address, once', async () => {
    const state = join(dir, 'state.db');
    const to = `${subscriber}.${list}.${campaign}@unsub.example.com`;
    const args = ['--from', 'example@icloud.com', '--to', to, '--config', config, '--state', state];
    const first = io(MAIL, { MW_KEY: API_KEY });
    expect(await unsubCommand([...args, '--json'], first.io)).toBe(0);
    const summary = JSON.parse(first.out.stdout);
    expect(summary).toMatchObject({ actions: 1, failed: 0, providerCalls: { mw: expect.any(Number) } });
    expect(summary.recipients).toMatchObject([{ recipient: to, verdict: 'accepted', state: 'new' }]);
    expect(fake.subscriber(subscriber)?.status).toBe('unsubscribed');
    // Only that list: the Deals subscription stays.
    expect(fake.subscribers.filter((s) => s.status === 'confirmed')).toHaveLength(1);

    const store = new SqliteSuppressionStore({ path: state });
    const status = await store.status(`ref:mailwizz:${list}:${subscriber}`);
    await store.close();
    expect(status.suppressed?.providersDone).toEqual(['mw']);
    expect(status.audit.map((a) => a.type)).toEqual(expect.arrayContaining(['decision', 'provider']));

    // PowerMTA may deliver the same mail again: nothing more happens at the provider.
    const mutations = fake.mutatingRequests();
    const again = io(MAIL, { MW_KEY: API_KEY });
    expect(await unsubCommand(args, again.io)).toBe(0);
    expect(again.out.stdout).toMatch(/accepted \(already\)/);
    expect(fake.mutatingRequests()).toBe(mutations);
  });

  it('a provider that is down during unsub: the action waits in the outbox, the next process run delivers it', async () => {
    const state = join(dir, 'outbox.db');
    const downList = fake.addList('Outage');
    const downSubscriber = fake.addSubscriber(downList, 'joe@example.com');
    const to = `${downSubscriber}.${downList}.${campaign}@unsub.example.com`;
    fake.http.inject({ status: 503, times: 1 });
    const during = io(MAIL, { MW_KEY: API_KEY });
    expect(await unsubCommand(['--to', to, '--config', config, '--state', state], during.io)).toBe(3);
    expect(fake.subscriber(downSubscriber)?.status).toBe('confirmed');
    // The pipe never sees this mail again: the next run of anything that drains the outbox must act.
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    const next = io('', { MW_KEY: API_KEY });
    expect(await processCommand([empty, '--config', config, '--state', state], next.io)).toBe(0);
    expect(fake.subscriber(downSubscriber)?.status).toBe('unsubscribed');
    const store = new SqliteSuppressionStore({ path: state });
    expect(store.pendingActions()).toEqual([]);
    await store.close();
  });

  it('or `retry` delivers it, without waiting for the next accounting run', async () => {
    const state = join(dir, 'outbox-retry.db');
    const downList = fake.addList('Outage 2');
    const downSubscriber = fake.addSubscriber(downList, 'jim@example.com');
    const to = `${downSubscriber}.${downList}.${campaign}@unsub.example.com`;
    fake.http.inject({ status: 503, times: 1 });
    expect(
      await unsubCommand(
        ['--to', to, '--config', config, '--state', state],
        io(MAIL, { MW_KEY: API_KEY }).io,
      ),
    ).toBe(3);
    const retried = io('', { MW_KEY: API_KEY });
    expect(await retryCommand(['--config', config, '--state', state, '--json'], retried.io)).toBe(0);
    expect(JSON.parse(retried.out.stdout)).toMatchObject({ retried: 1, done: 1, pending: 0 });
    expect(fake.subscriber(downSubscriber)?.status).toBe('unsubscribed');
  });

  it('refused mail exits 0 (no backscatter) and changes nothing', async () => {
    const state = join(dir, 'refused.db');
    const cases = [
      'opt-out-100731.e75std53hz8rnmy4r@unsub.example.com',
      `${subscriber}.${list}.${campaign}@example.org`,
      `${'a'.repeat(3000)}@unsub.example.com`,
    ];
    for (const to of cases) {
      const run = io(MAIL, { MW_KEY: API_KEY });
      expect(await unsubCommand(['--to', to, '--config', config, '--state', state], run.io)).toBe(0);
      expect(run.out.stdout).toMatch(/: (malformed|unknown-domain) — /);
      expect(run.out.stdout.length).toBeLessThan(500);
    }
    const store = new SqliteSuppressionStore({ path: state });
    expect((await store.status(`ref:mailwizz:${list}:${subscriber}`)).suppressed).toBeUndefined();
    await store.close();
  });

  it('usage errors exit 2', async () => {
    const run = io('');
    expect(await unsubCommand(['--from', 'a@b.c'], run.io)).toBe(2);
    expect(run.out.stderr).toMatch(/--to is required/);
    expect(await unsubCommand(['--bogus'], io('').io)).toBe(2);
  });
});

describe('pmta-bounce unsub with injected deps', () => {
  const S = 'ab12cd34ef567';
  const L = 'lq981kz0aa2bc';
  const TO = `${S}.${L}.cmp00000000zz@unsub.example.com`;
  function deps(store: MemorySuppressionStore, provider: MemoryListProvider): UnsubCommandDeps {
    const config = parseConfig({ unsubscribe: { domains: ['unsub.example.com'] } }, {}, {});
    config.providers = [
      { id: provider.id, type: 'mailwizz', concurrency: 1, timeoutMs: 1000, maxRetries: 0 },
    ];
    return {
      loadConfig: () => config,
      openRuntime: () => ({
        store,
        outbox,
        providers: new Map([[provider.id, provider]]),
        router: createRouter(config.providers),
        close: async () => {},
      }),
    };
  }
  /** The outbox as local mode keeps it (an action per subject), in memory. */
  function memoryOutbox(): UnsubOutbox & { actions: Map<string, Action>; failWith?: Error } {
    const actions = new Map<string, Action>();
    return {
      actions,
      enqueue(list) {
        if (this.failWith) throw this.failWith;
        for (const a of list) actions.set(a.subject, a);
      },
      complete(subject) {
        actions.delete(subject);
      },
      park() {},
    };
  }
  let outbox = memoryOutbox();
  beforeEach(() => {
    outbox = memoryOutbox();
  });

  it('reads a large message bounded, keeps no body, and runs the action by ids', async () => {
    const store = new MemorySuppressionStore();
    const provider = new MemoryListProvider({ id: 'mw', type: 'mailwizz' });
    const big = `${MAIL}\n${'body line that must never matter\n'.repeat(200_000)}`;
    const run = io(big);
    expect(await unsubCommand(['--to', TO, '--debug'], run.io, deps(store, provider))).toBe(0);
    expect(provider.received).toMatchObject([
      { operation: 'unsubscribeFromList', ref: { providerType: 'mailwizz', listId: L, subscriberId: S } },
    ]);
    expect(store.audit.find((a) => a.type === 'decision')?.recordKey).toBe(
      `unsub:898B6152-36BC-4F4B-ABF8-2694A88CB5FC@icloud.com:${TO}`,
    );
    expect(run.out.stderr).not.toMatch(/body line|Apple Mail|DKIM/);
  });

  it('a provider failure exits 3, the state stays pending for the next delivery', async () => {
    const store = new MemorySuppressionStore();
    const provider = new MemoryListProvider({ id: 'mw', type: 'mailwizz' });
    provider.failNext('transient');
    expect(await unsubCommand(['--to', TO], io(MAIL).io, deps(store, provider))).toBe(3);
    const retry = io(MAIL);
    expect(await unsubCommand(['--to', TO], retry.io, deps(store, provider))).toBe(0);
    expect(retry.out.stdout).toMatch(/accepted \(pending\)/);
    expect(provider.received).toHaveLength(2);
  });

  it('enqueues before any provider call: an outbox that cannot be written exits 75 and calls nobody', async () => {
    const store = new MemorySuppressionStore();
    const provider = new MemoryListProvider({ id: 'mw', type: 'mailwizz' });
    outbox.failWith = new StoreError('database or disk is full');
    const run = io(MAIL);
    expect(await unsubCommand(['--to', TO], run.io, deps(store, provider))).toBe(EXIT_TEMPFAIL);
    expect(provider.received).toEqual([]);
  });

  it('a failed provider leaves the action in the outbox; a done one removes it', async () => {
    const store = new MemorySuppressionStore();
    const provider = new MemoryListProvider({ id: 'mw', type: 'mailwizz' });
    provider.failNext('transient');
    expect(await unsubCommand(['--to', TO], io(MAIL).io, deps(store, provider))).toBe(3);
    expect([...outbox.actions.keys()]).toEqual([`ref:mailwizz:${L}:${S}`]);
    expect(await unsubCommand(['--to', TO], io(MAIL).io, deps(store, provider))).toBe(0);
    expect(outbox.actions.size).toBe(0);
  });

  it('a state that cannot be written exits 75 (EX_TEMPFAIL) so the MTA retries', async () => {
    const store = new MemorySuppressionStore();
    store.failWith = new StoreError('disk full');
    const run = io(MAIL);
    expect(await unsubCommand(['--to', TO], run.io, deps(store, new MemoryListProvider()))).toBe(
      EXIT_TEMPFAIL,
    );
    expect(run.out.stderr).toMatch(/disk full/);
  });
});
