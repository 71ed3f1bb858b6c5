/**
 * The traffic store's upsert (issue 14): rows added in several commits sum per key, blocks merged
 * per category, rows without blocks leave the stored ones alone.
 */
import { describe, expect, it } from 'vitest';
import { SqliteTrafficStore } from '#adapters/sqlite/sqlite-traffic-store.ts';
import type { TrafficRow } from '#core/guardrails/traffic.ts';

const row = (over: Partial<TrafficRow>): TrafficRow => ({
  hour: 3_600_000,
  sendingDomain: 'example.com',
  mailboxProvider: 'gmail',
  vmta: 'v1',
  job: 'j1',
  deliveries: 0,
  hardBounces: 0,
  softBounces: 0,
  complaints: 0,
  blocks: {},
  ...over,
});

describe('SqliteTrafficStore.addTraffic', () => {
  it('sums counters and merges blocks across batches, per key', async () => {
    const store = new SqliteTrafficStore(':memory:');
    await store.addTraffic([
      row({ deliveries: 5, blocks: { 'spam-related': 1 } }),
      row({ job: 'j2', hardBounces: 1 }),
    ]);
    await store.addTraffic([
      row({ deliveries: 2, softBounces: 3, blocks: { 'spam-related': 2, 'policy-related': 1 } }),
      row({ complaints: 1 }),
      row({ job: 'j2', hardBounces: 4 }),
    ]);
    expect(await store.trafficRows()).toEqual([
      row({
        deliveries: 7,
        softBounces: 3,
        complaints: 1,
        blocks: { 'spam-related': 3, 'policy-related': 1 },
      }),
      row({ job: 'j2', hardBounces: 5 }),
    ]);
    await store.close();
  });
});

describe('SqliteTrafficStore.guardrailRows', () => {
  it('sums the jobs of each hour, sender, provider and VirtualMTA (blocks per category), within the range', async () => {
    const store = new SqliteTrafficStore(':memory:');
    await store.addTraffic([
      row({ deliveries: 5, blocks: { 'spam-related': 1 } }),
      row({ job: 'j2', deliveries: 2, hardBounces: 1, blocks: { 'spam-related': 2, 'policy-related': 4 } }),
      row({ job: 'j3', complaints: 1 }),
      row({ vmta: 'v2', job: 'j2', softBounces: 3 }),
      row({ hour: 7_200_000, deliveries: 9 }),
    ]);
    expect(await store.guardrailRows(0, 7_200_000)).toEqual([
      row({
        job: '-',
        deliveries: 7,
        hardBounces: 1,
        complaints: 1,
        blocks: { 'spam-related': 3, 'policy-related': 4 },
      }),
      row({ vmta: 'v2', job: '-', softBounces: 3 }),
    ]);
    // The same guardrails trip as over the rows themselves (thresholds low enough to trip here).
    const { evaluateGuardrails } = await import('#core/guardrails/guardrails.ts');
    const low = {
      complaintRate: { warn: 0.001, critical: 0.003, minDeliveries: 1 },
      blockSpike: { share: 0.1, minAttempts: 1 },
    };
    const trips = evaluateGuardrails(await store.guardrailRows(0, 1e15), low);
    expect(trips.map((t) => t.kind)).toEqual(['complaint-rate', 'block-spike']);
    expect(trips).toEqual(evaluateGuardrails(await store.trafficRows(), low));
    await store.close();
  });
});
