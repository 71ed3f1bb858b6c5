/**
 * The real (and the synthetic-suspect) public PowerMTA files parse as test/fixtures/SOURCES.md says.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { createClassifier } from '#core/classify/classify.ts';
import { parseConfig } from '#core/config-schema.ts';
import { decideRecords } from '#core/decide/decide-records.ts';
import { createRouter } from '#core/decide/routing.ts';
import { readAccounting } from '#test/support/read-accounting.ts';

const DIR = join(import.meta.dirname, '../../../fixtures/pmta-acct');

async function decideFile(name: string) {
  const text = readFileSync(join(DIR, name));
  const store = new SqliteSuppressionStore({ path: ':memory:' });
  const result = await decideRecords(readAccounting(text, { chunk: 64 }), {
    classifier: createClassifier({ builtin: BUILTIN_RULES }),
    policy: parseConfig({}, {}, {}).policy,
    router: createRouter([]),
    store,
    now: () => 0,
  });
  await store.close();
  return result.rows.map((r) => ({
    line: r.line,
    type: r.type,
    recipient: r.recipient,
    action: r.action,
    category: r.category,
    reason: r.reason,
    rule: r.rule,
  }));
}

describe('real PowerMTA samples', () => {
  it('seed README bounce file: 2 hard bounces, ISO times with offset', async () => {
    const rows = await decideFile('magicdude4eva-port25-bouncehandler-README-bounce.csv');
    expect(rows.map((r) => [r.line, r.recipient, r.category, r.action])).toEqual([
      [2, 'xxx@domain.com', 'bad-domain', 'unsubscribe'],
      [3, 'yyy@anotherdomain.com', 'bad-mailbox', 'unsubscribe'],
    ]);
    const out = readAccounting(
      readFileSync(join(DIR, 'magicdude4eva-port25-bouncehandler-README-bounce.csv')),
    );
    expect(out[0]).toMatchObject({ ok: true, event: { occurredAt: Date.UTC(2016, 4, 28, 23, 10, 51) } });
  });

  it('PowerMTA 4.0 guide example (CRLF, union of columns, epoch): deliveries ignored, policy bounces are sender-side', async () => {
    const rows = await decideFile('port25-powermta-v4.0-usersguide-11.2.9-example.csv');
    expect(rows.map((r) => [r.line, r.type, r.action])).toEqual([
      [2, 'd', 'ignore'],
      [3, 'd', 'ignore'],
      [4, 'b', 'ignore'],
      [5, 'b', 'ignore'],
    ]);
    expect(rows[2]!.reason).toMatch(/category=policy-related .*sender-side/);
  });

  it.each(['tuck1s-sparkypmtatracking-acct_etl-example.csv', 'tuck1s-sparkypmtatracking-example.csv'])(
    '%s: header_* columns, delivery rows only, no trailing newline',
    async (file) => {
      const rows = await decideFile(file);
      expect(rows.length).toBeGreaterThan(2);
      expect(rows.every((r) => r.type === 'd' && r.action === 'ignore' && r.recipient?.includes('@'))).toBe(
        true,
      );
    },
  );
});

describe('synthetic-suspect samples: named rejects or ignores, never a crash', () => {
  it('watchtower acct: invented values are named', async () => {
    const rows = await decideFile('synthetic-suspect/pmta-watchtower-sample_acct.csv');
    expect(rows.length).toBeGreaterThan(5);
    const bounce = rows.find((r) => r.type === 'b')!;
    // "hard" is not a PowerMTA category: the rules decide from the reply, and the reason says so.
    expect(bounce).toMatchObject({ action: 'unsubscribe', category: 'bad-mailbox', rule: 'unknown-user' });
    expect(bounce.reason).toMatch(/bounceCat "hard" is not a PowerMTA category/);
  });
  it('watchtower bounce: categories hard/soft/block are reclassified from the reply, and named', async () => {
    const rows = await decideFile('synthetic-suspect/pmta-watchtower-sample_bounce.csv');
    expect(rows.map((r) => [r.category, r.action])).toEqual([
      ['bad-mailbox', 'unsubscribe'],
      ['no-answer-from-host', 'soft-bounce'],
      ['bad-mailbox', 'unsubscribe'],
      ['spam-related', 'ignore'],
      ['quota-issues', 'soft-bounce'],
    ]);
    expect(rows.every((r) => /is not a PowerMTA category/.test(r.reason))).toBe(true);
  });
  it('watchtower fbl: record type "fbl" is rejected by name', async () => {
    const rows = await decideFile('synthetic-suspect/pmta-watchtower-sample_fbl.csv');
    expect(rows.every((r) => r.action === 'reject' && /unknown record type "fbl"/.test(r.reason))).toBe(true);
  });
  it('kira41: record types c and x are rejected, the 5.1.1 bounce is classified by rules', async () => {
    const rows = await decideFile('synthetic-suspect/kira41-pmta-acct-sample.csv');
    expect(rows.map((r) => [r.type, r.action])).toEqual([
      ['d', 'ignore'],
      ['t', 'ignore'],
      ['b', 'unsubscribe'],
      ['c', 'reject'],
      ['x', 'reject'],
    ]);
    expect(rows[2]!.reason).toMatch(/rule=status-bad-mailbox/);
  });
});
