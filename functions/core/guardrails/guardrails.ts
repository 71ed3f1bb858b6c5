/**
 * The deliverability guardrails (docs/guardrails.md): complaint rate per sending domain per UTC day,
 * and sender-side block spikes per mailbox provider and VirtualMTA per hour. Pure: rows in, trips out.
 */
import type { GuardrailsConfig } from '../config-schema.ts';
import {
  addCounts,
  attempts,
  blockTotal,
  emptyCounts,
  type TrafficCounts,
  type TrafficRow,
} from './traffic.ts';

interface GuardrailSettings {
  /** Complaints / deliveries per sending domain per day; Gmail's limits are 0.1 % and 0.3 %. */
  complaintRate: { warn: number; critical: number; minDeliveries: number };
  /** Sender-side blocks / attempts at one mailbox provider through one VirtualMTA in one hour. */
  blockSpike: { share: number; minAttempts: number };
}

const DEFAULT_GUARDRAILS: GuardrailSettings = {
  complaintRate: { warn: 0.001, critical: 0.003, minDeliveries: 100 },
  blockSpike: { share: 0.1, minAttempts: 50 },
};

type GuardrailTrip =
  | {
      kind: 'complaint-rate';
      level: 'warn' | 'critical';
      sendingDomain: string;
      /** UTC day, YYYY-MM-DD. */
      day: string;
      complaints: number;
      deliveries: number;
      rate: number;
      threshold: number;
    }
  | {
      kind: 'block-spike';
      level: 'critical';
      mailboxProvider: string;
      vmta: string;
      /** UTC hour start, ISO 8601. */
      hour: string;
      blocks: number;
      attempts: number;
      share: number;
      threshold: number;
    };

const DAY_MS = 86_400_000;

/** A percent as a fraction without binary noise (0.3 / 100 is 0.0030000000000000005). */
function fraction(percent: number): number {
  return Number((percent / 100).toPrecision(12));
}

/** The configured guardrails (percent, as written in config) as fractions. */
function guardrailSettings(config: GuardrailsConfig): GuardrailSettings {
  return {
    complaintRate: {
      warn: fraction(config.complaintRatePercent.warn),
      critical: fraction(config.complaintRatePercent.critical),
      minDeliveries: config.complaintRatePercent.minDeliveries,
    },
    blockSpike: { share: fraction(config.blockSpike.percent), minAttempts: config.blockSpike.minAttempts },
  };
}

function utcDay(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** utcDay for many rows of few hours: each hour's day is formatted once. */
function dayOfHour(): (hour: number) => string {
  const days = new Map<number, string>();
  return (hour) => {
    let day = days.get(hour);
    if (day === undefined) {
      day = utcDay(hour);
      days.set(hour, day);
    }
    return day;
  };
}

/** Sums rows into groups named by `keyOf`, keeping the first row's key fields for display. */
function groupCounts<K extends string>(
  rows: readonly TrafficRow[],
  keyOf: (row: TrafficRow) => K,
): Map<K, { first: TrafficRow; counts: TrafficCounts }> {
  const groups = new Map<K, { first: TrafficRow; counts: TrafficCounts }>();
  for (const row of rows) {
    const key = keyOf(row);
    let group = groups.get(key);
    if (!group) {
      group = { first: row, counts: emptyCounts() };
      groups.set(key, group);
    }
    addCounts(group.counts, row);
  }
  return groups;
}

/** Complaint rate, or undefined where no delivery was seen (no rate without a denominator). */
function complaintRate(counts: TrafficCounts): number | undefined {
  return counts.deliveries > 0 ? counts.complaints / counts.deliveries : undefined;
}

function complaintTrips(rows: readonly TrafficRow[], s: GuardrailSettings): GuardrailTrip[] {
  const trips: GuardrailTrip[] = [];
  const dayOf = dayOfHour();
  const byDomainDay = groupCounts(rows, (r) => `${r.sendingDomain}\u0000${dayOf(r.hour)}`);
  for (const { first, counts } of byDomainDay.values()) {
    const rate = complaintRate(counts);
    if (rate === undefined || counts.deliveries < s.complaintRate.minDeliveries) continue;
    const level =
      rate >= s.complaintRate.critical ? 'critical' : rate >= s.complaintRate.warn ? 'warn' : undefined;
    if (!level) continue;
    trips.push({
      kind: 'complaint-rate',
      level,
      sendingDomain: first.sendingDomain,
      day: utcDay(first.hour),
      complaints: counts.complaints,
      deliveries: counts.deliveries,
      rate,
      threshold: level === 'critical' ? s.complaintRate.critical : s.complaintRate.warn,
    });
  }
  return trips;
}

function blockSpikeTrips(rows: readonly TrafficRow[], s: GuardrailSettings): GuardrailTrip[] {
  const trips: GuardrailTrip[] = [];
  const byProviderVmtaHour = groupCounts(rows, (r) => `${r.mailboxProvider}\u0000${r.vmta}\u0000${r.hour}`);
  for (const { first, counts } of byProviderVmtaHour.values()) {
    const tries = attempts(counts);
    const blocks = blockTotal(counts);
    if (tries < s.blockSpike.minAttempts || blocks / tries <= s.blockSpike.share) continue;
    trips.push({
      kind: 'block-spike',
      level: 'critical',
      mailboxProvider: first.mailboxProvider,
      vmta: first.vmta,
      hour: new Date(first.hour).toISOString(),
      blocks,
      attempts: tries,
      share: blocks / tries,
      threshold: s.blockSpike.share,
    });
  }
  return trips;
}

/** Every guardrail that trips in these rows, complaint rates first, each list in time order. */
function evaluateGuardrails(rows: readonly TrafficRow[], settings: GuardrailSettings): GuardrailTrip[] {
  // ISO times compare as plain strings; localeCompare would load ICU's collator (~3 MB of peak RSS
  // in every `process` run, docs/benchmarks.md).
  const when = (t: GuardrailTrip) => (t.kind === 'complaint-rate' ? t.day : t.hour);
  const byTime = (a: GuardrailTrip, b: GuardrailTrip) => {
    const x = when(a);
    const y = when(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
  return [...complaintTrips(rows, settings).sort(byTime), ...blockSpikeTrips(rows, settings).sort(byTime)];
}

/** One line for a terminal or a log. */
function describeTrip(trip: GuardrailTrip): string {
  const pct = (x: number) => `${(x * 100).toFixed(2)} %`;
  if (trip.kind === 'complaint-rate')
    return `${trip.level}: complaint rate ${pct(trip.rate)} for ${trip.sendingDomain} on ${trip.day} (${trip.complaints} complaints / ${trip.deliveries} deliveries; limit ${pct(trip.threshold)})`;
  return `${trip.level}: block spike at ${trip.mailboxProvider} through ${trip.vmta} at ${trip.hour} (${trip.blocks} sender-side blocks / ${trip.attempts} attempts = ${pct(trip.share)}; limit ${pct(trip.threshold)})`;
}

export type { GuardrailSettings, GuardrailTrip };
export {
  complaintRate,
  DAY_MS,
  DEFAULT_GUARDRAILS,
  describeTrip,
  evaluateGuardrails,
  fraction,
  groupCounts,
  guardrailSettings,
  utcDay,
};
