/**
 * A `process` run's deliverability counts (cli/run-traffic.ts) on the state's own connection: they
 * are written inside the open batch, so they commit or roll back with its decisions, and the tally
 * never holds more than FLUSH_ROWS rows (docs/benchmarks.md, peak RSS).
 */
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteTrafficStore } from '#adapters/sqlite/sqlite-traffic-store.ts';
import { createRunTraffic, FLUSH_ROWS } from '#cli/run-traffic.ts';
import { parseConfig } from '#core/config-schema.ts';
import type { ParseOutcome } from '#core/mail-event.ts';
import { providerSchemas } from '#providers/index.ts';

const HOUR = 3_600_000;
const config = parseConfig({}, {}, providerSchemas());

/** A delivery record per job: each job is its own traffic row. */
function deliveries(jobs: number, firstJob = 0): ParseOutcome[] {
  return Array.from({ length: jobs }, (_, i) => ({
    ok: false as const,
    kind: 'ignored' as const,
    line: i + 1,
    recordType: 'd',
    recipient: `user${i}@example.net`,
    reason: 'delivery',
    traffic: {
      at: 10 * HOUR + 60_000,
      recordType: 'd',
      orig: 'news@shop.example.com',
      recipient: `user${i}@example.net`,
      vmta: 'vmta-1',
      jobId: `job-${firstJob + i}`,
    },
  }));
}

/** A run's traffic on a state connection, what that connection sees stored, and the connection. */
function stateWithTraffic() {
  const db = new Database(':memory:');
  const traffic = createRunTraffic(config, new SqliteTrafficStore(db));
  const stored = () =>
    db.prepare('SELECT count(*) AS n, sum(deliveries) AS d FROM traffic').get() as {
      n: number;
      d: number | null;
    };
  return { db, traffic, stored };
}

describe('createRunTraffic on the state connection', () => {
  it('keeps a small tally until flush, then writes it in the open transaction', async () => {
    const { db, traffic, stored } = stateWithTraffic();
    db.exec('BEGIN');
    await traffic.add(deliveries(10), []);
    expect(stored().n).toBe(0);
    await traffic.flush();
    expect(stored()).toEqual({ n: 10, d: 10 });
    db.exec('ROLLBACK');
    expect(stored().n).toBe(0);
  });

  it('writes the tally as soon as it holds FLUSH_ROWS rows, inside the batch: a rollback takes it back', async () => {
    const { db, traffic, stored } = stateWithTraffic();
    db.exec('BEGIN');
    await traffic.add(deliveries(FLUSH_ROWS - 1), []);
    expect(stored().n).toBe(0);
    await traffic.add(deliveries(1, FLUSH_ROWS - 1), []);
    expect(stored()).toEqual({ n: FLUSH_ROWS, d: FLUSH_ROWS });
    db.exec('ROLLBACK');
    expect(stored().n).toBe(0);
  });

  it('counts every record once across flushes and judges the guardrails over the stored totals', async () => {
    const { db, traffic, stored } = stateWithTraffic();
    db.exec('BEGIN');
    await traffic.add(deliveries(FLUSH_ROWS + 5), []);
    await traffic.add(deliveries(7), []);
    db.exec('COMMIT');
    expect(await traffic.finish()).toEqual([]);
    expect(stored()).toEqual({ n: FLUSH_ROWS + 5, d: FLUSH_ROWS + 12 });
  });

  it('leaves the shared connection open when it closes', async () => {
    const { db, traffic } = stateWithTraffic();
    await traffic.close();
    expect(db.open).toBe(true);
    expect(() => db.prepare('SELECT count(*) FROM traffic').get()).not.toThrow();
    db.close();
  });
});
