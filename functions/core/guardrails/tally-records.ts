/**
 * Feeds one decided batch into the deliverability tally: the parse outcomes and their report rows
 * (one row per outcome, in order — decide/decide-records.ts) give each record's class.
 */
import type { ReportRow } from '../decide/decide-records.ts';
import type { ParseOutcome } from '../mail-event.ts';
import { TrafficClass, type TrafficTally, trafficClassOf } from './traffic.ts';

function tallyRecords(
  outcomes: readonly ParseOutcome[],
  rows: readonly ReportRow[],
  tally: TrafficTally,
  hardCategories: ReadonlySet<string>,
): void {
  for (let i = 0; i < outcomes.length; i++) {
    const outcome = outcomes[i]!;
    if (!outcome.ok) {
      if (outcome.kind === 'ignored' && outcome.traffic) tally.add(outcome.traffic, TrafficClass.delivery);
      continue;
    }
    const event = outcome.event;
    if (event.occurredAt === undefined || event.recordType === 'plain' || event.recordType === 'mail')
      continue;
    const row = rows[i];
    const isComplaint = event.kind === 'complaint' && row?.action !== 'ignore';
    const cls = trafficClassOf(event.recordType, row?.category, hardCategories, isComplaint);
    if (!cls) continue;
    tally.count(event.occurredAt, event.orig, event.recipient, event.vmta, event.jobId, cls, row?.category);
  }
}

export { tallyRecords };
