/**
 * Running totals of a `process` run and their two renderings (docs/interfaces.md §4 `--json` and a
 * readable line).
 */

import type { ActionResult } from '#core/act/run-action.ts';
import type { ReportRow } from '#core/decide/decide-records.ts';
import { formatCount } from './format-count.ts';
import { parkedIn } from './outbox-runner.ts';

interface ProcessSummary {
  records: number;
  unsubscribed: number;
  alreadySuppressed: number;
  softBounces: number;
  ignored: number;
  rejected: number;
  /** Actions not complete after this run. */
  failed: number;
  /** Of those, actions a provider refused for good (3xx, 4xx but not-found): they wait for `retry`. */
  parked: number;
  /** Actions left in the outbox after the run (this run's and earlier ones'). */
  pending: number;
  providerCalls: Record<string, number>;
}

function emptySummary(providerIds: readonly string[]): ProcessSummary {
  return {
    records: 0,
    unsubscribed: 0,
    alreadySuppressed: 0,
    softBounces: 0,
    ignored: 0,
    rejected: 0,
    failed: 0,
    parked: 0,
    pending: 0,
    providerCalls: Object.fromEntries(providerIds.map((id) => [id, 0])),
  };
}

function countRow(summary: ProcessSummary, row: ReportRow): void {
  summary.records++;
  switch (row.action) {
    case 'unsubscribe':
      summary.unsubscribed++;
      break;
    case 'already-suppressed':
      summary.alreadySuppressed++;
      break;
    case 'soft-bounce':
      summary.softBounces++;
      break;
    case 'ignore':
      summary.ignored++;
      break;
    case 'reject':
      summary.rejected++;
      break;
  }
}

function countAction(summary: ProcessSummary, result: ActionResult): void {
  for (const o of result.outcomes)
    summary.providerCalls[o.provider] = (summary.providerCalls[o.provider] ?? 0) + o.calls;
  if (!result.complete) summary.failed++;
  if (parkedIn(result)) summary.parked++;
}

function formatSummary(s: ProcessSummary, elapsedMs: number): string {
  const calls = Object.entries(s.providerCalls)
    .map(([id, n]) => `${id}=${n}`)
    .join(' ');
  const rate = Math.round(s.records / Math.max(elapsedMs / 1000, 0.001));
  return [
    `records=${s.records} unsubscribed=${s.unsubscribed} already-suppressed=${s.alreadySuppressed}`,
    `soft-bounces=${s.softBounces} ignored=${s.ignored} rejected=${s.rejected} failed=${s.failed}`,
    `parked=${s.parked} pending=${s.pending}`,
    `provider-calls: ${calls || 'none (no provider configured)'}`,
    `(${(elapsedMs / 1000).toFixed(2)} s, ${formatCount(rate)} records/s)`,
  ].join('  ');
}

export type { ProcessSummary };
export { countAction, countRow, emptySummary, formatSummary };
