/**
 * One decided batch → its hourly aggregates → the traffic store (docs/guardrails.md). Shared by
 * local `process` and the ingest function so both count the same way.
 */
import type { Config } from '../config-schema.ts';
import type { ReportRow } from '../decide/decide-records.ts';
import type { ParseOutcome } from '../mail-event.ts';
import type { TrafficStore } from '../ports.ts';
import { createMailboxProviderTable } from './mailbox-provider.ts';
import { tallyRecords } from './tally-records.ts';
import { type TrafficRow, TrafficTally } from './traffic.ts';

type TrafficCounter = (
  outcomes: readonly ParseOutcome[],
  rows: readonly ReportRow[],
  batchId?: string,
) => Promise<TrafficRow[]>;

/** Counts each batch and adds it to `store`; returns the batch's aggregates. */
function createTrafficCounter(
  config: Pick<Config, 'guardrails' | 'policy'>,
  store: TrafficStore,
): TrafficCounter {
  const providers = createMailboxProviderTable(config.guardrails.mailboxProviders);
  const hard = new Set<string>(config.policy.hardCategories);
  return async (outcomes, rows, batchId) => {
    const tally = new TrafficTally(providers);
    tallyRecords(outcomes, rows, tally, hard);
    const batch = tally.entries();
    await store.addTraffic(batch, batchId);
    return batch;
  };
}

export type { TrafficCounter };
export { createTrafficCounter };
