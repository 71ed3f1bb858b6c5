/**
 * Deliverability counting for one `process` run (docs/guardrails.md): each decided batch is tallied
 * and added to the state's hourly aggregates; at the end the guardrails are judged over the days the
 * run touched. A dry run keeps its aggregates in memory only and judges what it saw.
 */
import { postGuardrailNotice, tripId } from '#adapters/providers/webhook/guardrail-notifier.ts';
import type { SqliteTrafficStore } from '#adapters/sqlite/sqlite-traffic-store.ts';
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

/**
 * Tally rows kept before they are written (in the open batch): at most a few MB of heap on a
 * file with many jobs per hour (the PHP bench: ~1 row per 4 records); a real stream reaches it
 * seldom and writes at each commit, where the rows have merged (docs/benchmarks.md).
 */
const FLUSH_ROWS = 5_000;

interface RunTraffic {
  /** Tallies one decided batch (in memory until `flush`). */
  add(outcomes: readonly ParseOutcome[], rows: readonly ReportRow[]): Promise<void>;
  /**
   * Unless a dry run, adds what was tallied since the last flush to the state, inside its open
   * transaction: `process` calls it before each commit (and `add` once the tally holds FLUSH_ROWS
   * rows), so the counts commit with the decisions (docs/benchmarks.md).
   */
  flush(): Promise<void>;
  /** The guardrails that trip over the whole days this run touched (stored totals included). */
  finish(): Promise<GuardrailTrip[]>;
  /** Posts each trip not announced before to `guardrails.webhook`; returns the failures to print. */
  notify(trips: readonly GuardrailTrip[], now: number): Promise<string[]>;
  close(): Promise<void>;
}

function dryRunTraffic(config: Config): RunTraffic {
  // Judged in memory at the end: without the job dimension, which no guardrail groups by.
  const tally = new TrafficTally(createMailboxProviderTable(config.guardrails.mailboxProviders), {
    jobs: false,
  });
  const hard = new Set<string>(config.policy.hardCategories);
  return {
    add: async (outcomes, rows) => tallyRecords(outcomes, rows, tally, hard),
    flush: async () => {},
    finish: async () => evaluateGuardrails(tally.entries(), guardrailSettings(config.guardrails)),
    notify: async () => [],
    close: async () => {},
  };
}

/** `store`: the local runtime's traffic store; none in a dry run. */
function createRunTraffic(config: Config, store: SqliteTrafficStore | undefined): RunTraffic {
  if (!store) return dryRunTraffic(config);
  const providers = createMailboxProviderTable(config.guardrails.mailboxProviders);
  const hard = new Set<string>(config.policy.hardCategories);
  let pending = new TrafficTally(providers);
  // The run's own counts without jobs, and whether any day it touched had counts before it: if
  // none had, these are the stored totals and the guardrails are judged from them without reading
  // the days back (a quarter of a second on the PHP bench's file, docs/benchmarks.md).
  const whole = new TrafficTally(providers, { jobs: false });
  const days = new Set<number>();
  let storedBefore = false;
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  const flush = async (): Promise<void> => {
    const batch = pending.entries();
    pending = new TrafficTally(providers);
    if (batch.length === 0) return;
    for (const row of batch) {
      const day = Math.floor(row.hour / DAY_MS) * DAY_MS;
      if (!days.has(day)) {
        days.add(day);
        storedBefore ||= store.hasTraffic(day, day + DAY_MS);
      }
      whole.addRow(row);
      first = Math.min(first, row.hour);
      last = Math.max(last, row.hour);
    }
    await store.addTraffic(batch);
  };
  return {
    add: async (outcomes, rows) => {
      tallyRecords(outcomes, rows, pending, hard);
      if (pending.size >= FLUSH_ROWS) await flush();
    },
    flush,
    async finish() {
      await flush();
      if (first > last) return [];
      const dayStart = Math.floor(first / DAY_MS) * DAY_MS;
      const rows = storedBefore
        ? await store.guardrailRows(dayStart, Math.floor(last / DAY_MS + 1) * DAY_MS)
        : whole.entries();
      return evaluateGuardrails(rows, guardrailSettings(config.guardrails));
    },
    async notify(trips, now) {
      const hook = config.guardrails.webhook;
      if (!hook) return [];
      const failures: string[] = [];
      for (const trip of trips) {
        const id = tripId(trip);
        if (store.noticeSent(id)) continue;
        const error = await postGuardrailNotice(hook, trip, now);
        if (error) failures.push(`guardrail notice ${id} not delivered (${error}); the next run tries again`);
        else store.markNoticeSent(id, now);
      }
      return failures;
    },
    close: () => store.close(),
  };
}

export type { RunTraffic };
export { createRunTraffic, FLUSH_ROWS };
