/**
 * policy.soft hygiene (docs/classification.md "Soft bounces"): one count per address per UTC day,
 * a later delivery resets the count, an expiry whose last reply was sender-side does not count,
 * and every row and audit entry names the rule that decided it.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { createClassifier } from '#core/classify/classify.ts';
import { parseConfig } from '#core/config-schema.ts';
import { decideRecords } from '#core/decide/decide-records.ts';
import { createRouter } from '#core/decide/routing.ts';
import { readAccounting } from '#test/support/read-accounting.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const T0 = Date.UTC(2026, 0, 1, 8);
const HEADER = 'type,timeLogged,orig,rcpt,bounceCat,dsnStatus,dsnDiag';
const QUOTA = ['quota-issues', '4.2.2 (mailbox full)', 'smtp;452 4.2.2 Mailbox full'];
const TSS04 = [
  'message-expired',
  '4.4.7 (delivery time expired)',
  'smtp;421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints',
];
const NO_ANSWER = ['message-expired', '4.4.7 (delivery time expired)', 'smtp;421 4.4.1 Connection timed out'];

function line(type: string, at: number, rcpt: string, [cat, status, diag] = QUOTA): string {
  return `${type},${Math.floor(at / 1000)},news@example.com,${rcpt},${cat},${status},"${diag}"`;
}

describe('soft-bounce hygiene', () => {
  let store: SqliteSuppressionStore;
  beforeEach(() => {
    store = new SqliteSuppressionStore({ path: ':memory:' });
  });
  afterEach(async () => {
    await store.close();
  });

  async function run(lines: string[], soft: Record<string, unknown> = {}) {
    return decideRecords(readAccounting(`${HEADER}\n${lines.join('\n')}\n`), {
      classifier: createClassifier({ builtin: BUILTIN_RULES }),
      policy: parseConfig({ policy: { soft: { threshold: 3, ...soft } } }, {}, {}).policy,
      router: createRouter([]),
      store,
      now: () => T0,
    });
  }

  it('five expiries within an hour are one count, not an unsubscribe', async () => {
    const out = await run(
      [0, 1, 2, 3, 4].map((i) => line('b', T0 + i * 10 * 60_000, 'a@example.com', NO_ANSWER)),
    );
    expect(out.rows.map((r) => r.action)).toEqual(Array(5).fill('soft-bounce'));
    expect(out.rows[4]!.reason).toContain('1 within 30d (one per UTC day)');
  });

  it('without onePerUtcDay the same hour reaches the threshold', async () => {
    const out = await run(
      [0, 1, 2].map((i) => line('b', T0 + i * 60_000, 'a@example.com', NO_ANSWER)),
      { onePerUtcDay: false },
    );
    expect(out.rows.map((r) => r.action)).toEqual(['soft-bounce', 'soft-bounce', 'unsubscribe']);
  });

  it('three soft bounces on three days unsubscribe; a delivery in between starts again', async () => {
    const plain = await run([0, 1, 2].map((d) => line('b', T0 + d * DAY, 'p@example.com')));
    expect(plain.rows.map((r) => r.action)).toEqual(['soft-bounce', 'soft-bounce', 'unsubscribe']);

    const reset = await run([
      line('b', T0, 'q@example.com'),
      line('b', T0 + DAY, 'q@example.com'),
      line('d', T0 + DAY + HOUR, 'q@example.com', ['', '2.0.0 (success)', 'smtp;250 ok']),
      line('b', T0 + 2 * DAY, 'q@example.com'),
    ]);
    expect(reset.rows.map((r) => r.action)).toEqual(['soft-bounce', 'soft-bounce', 'ignore', 'soft-bounce']);
    expect(reset.rows[3]!.reason).toContain('1 within 30d');
  });

  it('a delivery in a later file still resets, and a bounce older than it counts nothing', async () => {
    await run([line('b', T0, 'r@example.com'), line('b', T0 + DAY, 'r@example.com')]);
    await run([line('d', T0 + 2 * DAY, 'r@example.com', ['', '2.0.0', 'smtp;250 ok'])]);
    const out = await run([
      line('b', T0 + DAY + HOUR, 'r@example.com'),
      line('b', T0 + 3 * DAY, 'r@example.com'),
    ]);
    expect(out.rows.map((r) => r.action)).toEqual(['soft-bounce', 'soft-bounce']);
    expect(out.rows[0]!.reason).toContain('before the last delivery: not counted');
    expect(out.rows[1]!.reason).toContain('1 within 30d');
  });

  it('resetOnDelivery: false keeps counting across deliveries', async () => {
    const out = await run(
      [
        line('b', T0, 's@example.com'),
        line('d', T0 + HOUR, 's@example.com', ['', '2.0.0', 'smtp;250 ok']),
        line('b', T0 + DAY, 's@example.com'),
        line('b', T0 + 2 * DAY, 's@example.com'),
      ],
      { resetOnDelivery: false },
    );
    expect(out.rows.map((r) => r.action)).toEqual(['soft-bounce', 'ignore', 'soft-bounce', 'unsubscribe']);
  });

  it('an expiry whose last reply was our IP being throttled does not count', async () => {
    const out = await run([0, 1, 2].map((d) => line('b', T0 + d * DAY, 't@example.com', TSS04)));
    expect(out.rows.map((r) => [r.action, r.rule])).toEqual(Array(3).fill(['ignore', 'sender-rate-limit']));
    expect(out.rows[0]!.reason).toContain('expired after a sender-side reply: never unsubscribes');
    expect((await store.status('t@example.com')).softBounces).toEqual([]);

    const counted = await run([line('b', T0, 'u@example.com', TSS04)], { senderSideExpiry: 'count' });
    expect(counted.rows[0]!.action).toBe('soft-bounce');
  });

  it('rows and audit entries name the rule that decided', async () => {
    const out = await run([
      line('b', T0, 'v@example.com', ['bad-mailbox', '5.1.1', 'smtp;550 5.1.1 user unknown']),
      line('b', T0, 'w@example.com', TSS04),
    ]);
    expect(out.rows.map((r) => r.rule)).toEqual(['pmta', 'sender-rate-limit']);
    expect((await store.status('v@example.com')).audit.map((a) => a.rule)).toEqual(['pmta']);
    expect((await store.status('w@example.com')).audit.map((a) => a.rule)).toEqual(['sender-rate-limit']);
  });
});
