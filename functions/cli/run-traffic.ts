/**
 * Deliverability counting for one `process` run (docs/guardrails.md): each decided batch is tallied
 * and added to the state's hourly aggregates; at the end the guardrails are judged over the days the
 * run touched. A dry run tallies in memory only and judges what it saw.
 */
import { SqliteTrafficStore } from '#adapters/sqlite/sqlite-traffic-store.ts';
import type { Config } from '#core/config-schema.ts';
import type { ReportRow } from '#core/decide/decide-records.ts';
import {
  DAY_MS,
  evaluateGuardrails,
  type GuardrailTrip,
  guardrailSettings,
} from '#core/guardrails/guardrails.ts';
import { createMailboxProviderTable } from '#core/guardrails/mailbox-provider.ts';
import { tallyRecords } from '#core/guardrails/tally-records.ts';
import { TrafficTally } from '#core/guardrails/traffic.ts';
import type { ParseOutcome } from '#core/mail-event.ts';

interface RunTraffic {
  /** Tallies one decided batch and, unless a dry run, adds it to the state. */
  add(outcomes: readonly ParseOutcome[], rows: readonly ReportRow[]): Promise<void>;
  /** The guardrails that trip over the whole days this run touched (stored totals included). */
  finish(): Promise<GuardrailTrip[]>;
  close(): Promise<void>;
}

function createRunTraffic(config: Config, statePath: string, dryRun: boolean): RunTraffic {
  const tally = new TrafficTally(createMailboxProviderTable(config.guardrails.mailboxProviders));
  const hard = new Set<string>(config.policy.hardCategories);
  const store = dryRun ? undefined : new SqliteTrafficStore(statePath);
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  return {
    async add(outcomes, rows) {
      tallyRecords(outcomes, rows, tally, hard);
      if (!store) return; // a dry run keeps its aggregates in memory (bounded by their keys)
      const batch = tally.entries();
      tally.clear();
      for (const row of batch) {
        first = Math.min(first, row.hour);
        last = Math.max(last, row.hour);
      }
      await store.addTraffic(batch);
    },
    async finish() {
      const settings = guardrailSettings(config.guardrails);
      if (!store) return evaluateGuardrails(tally.entries(), settings);
      if (first > last) return [];
      const rows = await store.trafficRows(
        Math.floor(first / DAY_MS) * DAY_MS,
        Math.floor(last / DAY_MS + 1) * DAY_MS,
      );
      return evaluateGuardrails(rows, settings);
    },
    async close() {
      await store?.close();
    },
  };
}

export type { RunTraffic };
export { createRunTraffic };
