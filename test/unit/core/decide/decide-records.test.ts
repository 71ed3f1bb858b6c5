import { beforeEach, describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { createClassifier } from '#core/classify/classify.ts';
import { parseConfig } from '#core/config-schema.ts';
import { decideRecords } from '#core/decide/decide-records.ts';
import { createRouter } from '#core/decide/routing.ts';
import { readAccounting } from '#test/support/read-accounting.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
const HEADER = 'type,timeLogged,orig,rcpt,bounceCat,header_X-Mw-Subscriber-Uid,header_List-Id,feedbackType';

function line(type: string, atMs: number, rcpt: string, cat = '', extra = ',,'): string {
  return `${type},${Math.floor(atMs / 1000)},news@example.com,${rcpt},${cat},${extra}`;
}

describe('decideRecords', () => {
  let store: SqliteSuppressionStore;
  const providers = [
    {
      id: 'mw',
      type: 'mailwizz',
      senders: ['news@example.com'],
      concurrency: 4,
      timeoutMs: 1000,
      maxRetries: 0,
    },
    {
      id: 'iem',
      type: 'interspire',
      senders: ['*@promo.example.com'],
      concurrency: 4,
      timeoutMs: 1000,
      maxRetries: 0,
    },
  ];
  const deps = () => ({
    classifier: createClassifier({ builtin: BUILTIN_RULES }),
    policy: parseConfig({ policy: { soft: { threshold: 3, windowDays: 7 } } }, {}, {}).policy,
    router: createRouter(providers),
    store,
    now: () => T0,
  });
  beforeEach(() => {
    store = new SqliteSuppressionStore({ path: ':memory:' });
  });

  async function run(lines: string[]) {
    return decideRecords(readAccounting(`${HEADER}\n${lines.join('\n')}\n`), deps());
  }

  it.each([
    { lines: [line('b', T0, 'h@example.com', 'bad-mailbox')], rule: 'pmta', bounceType: 'hard' },
    {
      lines: [0, 1, 2].map((i) => line('b', T0 + i * DAY, 's@example.com', 'quota-issues')),
      rule: 'pmta',
      bounceType: 'soft',
    },
    { lines: [line('f', T0, 'c@example.com', '', ',,abuse')], rule: undefined, bounceType: undefined },
  ])('the action carries the rule $rule and bounce type $bounceType (for list managers)', async (c) => {
    const { actions } = await run(c.lines);
    expect(actions).toHaveLength(1);
    expect(actions[0]?.rule).toBe(c.rule);
    expect(actions[0]?.bounceType).toBe(c.bounceType);
  });

  it('hard bounce → one action routed by orig; replays and case variants are already suppressed', async () => {
    const first = await run([
      line('b', T0, 'A@Example.com', 'bad-mailbox'),
      line('rb', T0 + 1000, 'a@example.COM', 'bad-mailbox'),
    ]);
    expect(first.rows.map((r) => r.action)).toEqual(['unsubscribe', 'already-suppressed']);
    expect(first.actions).toHaveLength(1);
    expect(first.actions[0]).toMatchObject({
      subject: 'a@example.com',
      providers: ['mw'],
      target: { type: 'email', address: 'a@example.com' },
    });
    for (const p of first.actions[0]!.providers) await store.markProvider('a@example.com', p, 'done');
    const replay = await run([line('b', T0, 'A@Example.com', 'bad-mailbox')]);
    expect(replay.rows.map((r) => r.action)).toEqual(['already-suppressed']);
    expect(replay.actions).toEqual([]);
  });

  it('a failed provider keeps the subject pending, and a rerun retries it', async () => {
    await run([line('b', T0, 'p@example.com', 'bad-mailbox')]);
    await store.markProvider('p@example.com', 'mw', 'failed');
    const again = await run([line('b', T0, 'p@example.com', 'bad-mailbox')]);
    expect(again.rows[0]).toMatchObject({
      action: 'unsubscribe',
      reason: expect.stringContaining('retrying mw'),
    });
    expect(again.actions.map((a) => a.providers)).toEqual([['mw']]);
  });

  it('soft bounces unsubscribe at the threshold inside the window, not before, not outside', async () => {
    const out = await run([
      line('b', T0, 's@example.com', 'quota-issues'),
      line('b', T0 + 3 * DAY, 's@example.com', 'quota-issues'),
      line('b', T0 + 7 * DAY, 's@example.com', 'quota-issues'), // exactly at the window edge: 3 within 7d
    ]);
    expect(out.rows.map((r) => r.action)).toEqual(['soft-bounce', 'soft-bounce', 'unsubscribe']);
    expect(out.rows[2]!.reason).toContain('3 within 7d (one per UTC day), threshold 3');

    const spread = await run([
      line('b', T0, 't@example.com', 'quota-issues'),
      line('b', T0 + 4 * DAY, 't@example.com', 'quota-issues'),
      line('b', T0 + 7 * DAY + 1000, 't@example.com', 'quota-issues'), // first one fell out of the window
    ]);
    expect(spread.rows.map((r) => r.action)).toEqual(['soft-bounce', 'soft-bounce', 'soft-bounce']);
  });

  it('a replayed soft bounce is not counted twice', async () => {
    const a = line('b', T0, 'r@example.com', 'quota-issues');
    const out = await run([a, a, a, line('b', T0 + DAY, 'r@example.com', 'quota-issues')]);
    expect(out.rows.map((r) => r.reason.match(/\((\d) within/)?.[1])).toEqual(['1', '1', '1', '2']);
  });

  it('anonymised complaints: by provider ids, flagged everywhere, routed to every provider of the sender', async () => {
    // The complaint policy applies to the person, not to one list: the act side resolves the ids to
    // the address (one lookup) and unsubscribes it everywhere, at every provider (docs/unsubscribe.md).
    const hook = { id: 'hook', type: 'webhook', concurrency: 4, timeoutMs: 1000, maxRetries: 0 };
    const widened = { ...deps(), router: createRouter([...providers, hook]) };
    const lines = [line('f', T0, '', '', 'zz987yy654xx3,"News <ab123cd45ef67.example.com>",abuse')];
    const out = await decideRecords(readAccounting(`${HEADER}\n${lines.join('\n')}\n`), widened);
    expect(out.actions).toEqual([
      expect.objectContaining({
        subject: 'ref:mailwizz:ab123cd45ef67:zz987yy654xx3',
        target: {
          type: 'ref',
          ref: { providerType: 'mailwizz', listId: 'ab123cd45ef67', subscriberId: 'zz987yy654xx3' },
        },
        everywhere: true,
        providers: ['mw', 'hook'],
      }),
    ]);
  });

  it('rejects and ignores are rows with reasons, and rejects are returned with raw lines', async () => {
    const out = await run([
      'zz,1,a@b.c,,',
      line('d', T0, 'd@example.com'),
      line('b', T0, 'x@example.com', 'spam-related'),
    ]);
    expect(out.rows.map((r) => r.action)).toEqual(['reject', 'ignore', 'ignore']);
    expect(out.rejects).toEqual([
      { line: 2, raw: 'zz,1,a@b.c,,', reason: expect.stringContaining('unknown record type') },
    ]);
    expect(out.rows[2]!.reason).toMatch(/sender-side/);
  });

  it('records decisions in the audit trail', async () => {
    await run([line('b', T0, 'au@example.com', 'bad-domain')]);
    const status = await store.status('au@example.com');
    expect(status.audit).toEqual([
      expect.objectContaining({ type: 'decision', action: 'unsubscribe', line: 2 }),
    ]);
  });
});
