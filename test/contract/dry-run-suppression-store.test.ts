/**
 * The dry run's store must answer as the SQLite store would for the same calls (a dry run reports
 * what the real run would do): random batches of suppressions and soft bounces, over a real state
 * file read underneath, compared call by call with a SQLite store holding the same state.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { DryRunSuppressionStore } from '#adapters/sqlite/dry-run-suppression-store.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';

const DAY = 86_400_000;
const T0 = 1_764_000_000_000;
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-dry-run-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const address = fc.constantFrom('a@x.com', 'b@x.com', 'c@x.com', 'd@x.com');
const call = fc.oneof(
  fc.record({
    op: fc.constant('suppress' as const),
    subjects: fc.array(fc.tuple(address, fc.subarray(['mw', 'iem'])), { minLength: 1, maxLength: 4 }),
  }),
  fc.record({
    op: fc.constant('soft' as const),
    bounces: fc.array(fc.tuple(address, fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 3 })), {
      minLength: 1,
      maxLength: 5,
    }),
    onePerUtcDay: fc.boolean(),
  }),
  fc.record({
    op: fc.constant('deliver' as const),
    deliveries: fc.array(fc.tuple(address, fc.integer({ min: 0, max: 40 })), { minLength: 1, maxLength: 3 }),
  }),
);

let n = 0;

describe('DryRunSuppressionStore', () => {
  it.each([
    { memory: 'room for everything', limit: undefined },
    { memory: 'room for 2 (the rest in its scratch file)', limit: 2 },
  ])(
    'property: answers every call as the SQLite store does, over the same real state ($memory)',
    async ({ limit }) => {
      // The real state: b is suppressed (done at mw), c has two soft bounces.
      const base = join(dir, 'base.db');
      const real = new SqliteSuppressionStore({ path: base });
      await real.suppress([
        { subject: 'b@x.com', kind: 'bounce', reason: 'r', recordKey: 'kb', at: T0, providers: ['mw'] },
      ]);
      await real.markProvider('b@x.com', 'mw', 'done');
      await real.recordSoftBounces(
        [
          { address: 'c@x.com', recordKey: 'k1', at: T0 },
          { address: 'c@x.com', recordKey: 'k2', at: T0 + DAY },
        ],
        30 * DAY,
      );
      // ... and d a soft bounce and a delivery after it.
      // A record key the calls below can send again (c, day 3, key 1): counted once, as in SQLite.
      await real.recordSoftBounces(
        [
          { address: 'd@x.com', recordKey: 'k3', at: T0 },
          { address: 'c@x.com', recordKey: 's1-3', at: T0 + DAY },
        ],
        30 * DAY,
      );
      await real.recordDeliveries([{ address: 'd@x.com', at: T0 + 2 * DAY }]);
      await real.close();

      await fc.assert(
        fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 12 }), async (calls) => {
          const copy = join(dir, `copy${n++}.db`);
          copyFileSync(base, copy);
          const sqlite = new SqliteSuppressionStore({ path: copy });
          const dry = new DryRunSuppressionStore({ basePath: base, ...(limit ? { limit } : {}) });
          try {
            for (const c of calls) {
              if (c.op === 'suppress') {
                const requests = c.subjects.map(([subject, providers], i) => ({
                  subject,
                  kind: 'bounce',
                  reason: 'r',
                  recordKey: `k${i}`,
                  at: T0,
                  providers,
                }));
                expect(await dry.suppress(requests)).toEqual(await sqlite.suppress(requests));
              } else if (c.op === 'soft') {
                // Hours apart within a day, so one-per-UTC-day counting has something to merge.
                const requests = c.bounces.map(([addr, day, key]) => ({
                  address: addr,
                  recordKey: `s${key}-${day}`,
                  at: T0 + day * (DAY / 3),
                }));
                const counting = { windowMs: 10 * DAY, onePerUtcDay: c.onePerUtcDay };
                expect(await dry.recordSoftBounces(requests, counting)).toEqual(
                  await sqlite.recordSoftBounces(requests, counting),
                );
              } else {
                const deliveries = c.deliveries.map(([addr, day]) => ({
                  address: addr,
                  at: T0 + day * (DAY / 3),
                }));
                await dry.recordDeliveries(deliveries);
                await sqlite.recordDeliveries(deliveries);
              }
            }
          } finally {
            await sqlite.close();
            await dry.close();
            rmSync(copy, { force: true });
          }
        }),
        { numRuns: 300 },
      );
    },
  );

  it('works without a state file and never creates one', async () => {
    const dry = new DryRunSuppressionStore({});
    const [first, second] = await dry.suppress([
      { subject: 'a@x.com', kind: 'bounce', reason: 'r', recordKey: 'k', at: T0, providers: ['mw'] },
      { subject: 'a@x.com', kind: 'bounce', reason: 'r', recordKey: 'k2', at: T0, providers: ['mw'] },
    ]);
    expect([first?.state, second?.state]).toEqual(['new', 'already']);
    const [later] = await dry.suppress([
      { subject: 'a@x.com', kind: 'bounce', reason: 'r', recordKey: 'k3', at: T0, providers: ['mw'] },
    ]);
    // As in the SQLite store: suppressed in an earlier batch, the provider not done (a dry run calls none).
    expect(later).toEqual({ subject: 'a@x.com', state: 'pending', pendingProviders: ['mw'] });
    await dry.close();
  });
});
