import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';
import { describeSuppressionStoreContract } from './suppression-store-contract.ts';

let local: DynamoDbLocal;
beforeAll(async () => {
  local = await startDynamoDbLocal();
});
afterAll(async () => {
  await local?.stop();
});

const makeStore = async (now?: () => number) =>
  new DynamoDbSuppressionStore({ client: local.documents, table: await local.newTable(), now });

describeSuppressionStoreContract('dynamodb (dynalite)', makeStore);

describe('DynamoDbSuppressionStore at message scale', () => {
  it('suppresses thousands of subjects with batched reads and one conditional put each', async () => {
    const store = await makeStore();
    const requests = Array.from({ length: 1200 }, (_, i) => ({
      subject: `u${i % 1000}@example.com`,
      kind: 'bounce',
      reason: 'hard',
      recordKey: `k${i}`,
      at: 1_000 + i,
      providers: ['mw'],
    }));
    const out = await store.suppress(requests);
    expect(out.filter((o) => o.state === 'new')).toHaveLength(1000);
    expect(out.filter((o) => o.state === 'already')).toHaveLength(200);
    const again = await store.suppress(requests.slice(0, 10));
    expect(again.map((o) => o.state)).toEqual(Array(10).fill('pending'));
    expect(await store.providersDone('u1@example.com')).toEqual([]);
    await store.markProvider('u1@example.com', 'mw', 'done');
    expect(await store.providersDone('u1@example.com')).toEqual(['mw']);
  });

  it('counts replayed soft bounces once across calls', async () => {
    const store = await makeStore();
    const req = { address: 's@example.com', recordKey: 'same', at: 5_000 };
    expect(await store.recordSoftBounces([req], 1e9)).toEqual([1]);
    expect(await store.recordSoftBounces([req, req], 1e9)).toEqual([1, 1]);
  });
});
