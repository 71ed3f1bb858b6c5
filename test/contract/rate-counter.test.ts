import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoDbRateCounter } from '#adapters/dynamodb/dynamodb-rate-counter.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';
import { MemoryRateCounter } from '#test/support/memory-rate-counter.ts';
import { describeRateCounterContract } from './rate-counter-contract.ts';

let local: DynamoDbLocal;
beforeAll(async () => {
  local = await startDynamoDbLocal();
});
afterAll(async () => {
  await local?.stop();
});

describeRateCounterContract('memory', async () => new MemoryRateCounter());
describeRateCounterContract('sqlite', async () =>
  new SqliteSuppressionStore({ path: ':memory:' }).rateCounter(),
);
describeRateCounterContract('dynamodb (dynalite)', async () =>
  createDynamoDbRateCounter(local.documents, await local.newTable()),
);

describe('SQLite rate counters are swept on open once expired', () => {
  it('drops counters past their expiry', async () => {
    let now = 1_000;
    const store = new SqliteSuppressionStore({ path: ':memory:', now: () => now });
    await store.rateCounter().increment(['global'], 0, 2_000);
    now = 2_001;
    expect(store.sweepExpired()).toBe(1);
    expect(await store.rateCounter().increment(['global'], 0, 2_000)).toEqual([1]);
    await store.close();
  });
});
