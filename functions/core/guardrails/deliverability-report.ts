/**
 * The `report` data model (docs/guardrails.md): counts and rates per sending domain, mailbox
 * provider, VirtualMTA and job, daily series for the charts, the guardrail trips, unsubscribes per
 * list-manager provider and the pending actions. Pure; the CLI renders it as JSON, a table or HTML.
 */
import {
  complaintRate,
  DAY_MS,
  evaluateGuardrails,
  type GuardrailSettings,
  type GuardrailTrip,
  groupCounts,
  utcDay,
} from './guardrails.ts';
import { attempts, blockTotal, emptyCounts, type TrafficCounts, type TrafficRow } from './traffic.ts';

interface Rates {
  /** complaints / deliveries; null where no delivery was seen. */
  complaintRate: number | null;
  /** (hard + soft) / attempts; null without attempts. */
  bounceRate: number | null;
  /** sender-side blocks / attempts; null without attempts. */
  blockShare: number | null;
}

interface ReportGroup extends TrafficCounts, Rates {
  name: string;
}

interface PendingSummary {
  /** Subjects with provider work still to do. */
  actions: number;
  /** Of those, requested more than 24 hours ago (the 48-hour unsubscribe rule's early warning). */
  olderThan24h: number;
}

interface DeliverabilityReport {
  window: { since: string | null; until: string | null };
  totals: TrafficCounts & Rates;
  sendingDomains: Array<ReportGroup & { guardrail: 'ok' | 'warn' | 'critical' | 'no-deliveries' }>;
  mailboxProviders: ReportGroup[];
  vmtas: ReportGroup[];
  jobs: ReportGroup[];
  /** Per day and sending domain (complaint-rate chart: the rate is judged per day). */
  daily: Array<TrafficCounts & Rates & { day: string; sendingDomain: string }>;
  /** Time step of the two series below: hours when the data spans at most three days. */
  step: 'hour' | 'day';
  /** Totals per step (bounce chart); `t` is the step's start, ISO 8601. */
  timeline: Array<TrafficCounts & { t: string }>;
  /** Sender-side blocks per step and mailbox provider/VirtualMTA pair (block chart). */
  blockTimeline: Array<{
    t: string;
    mailboxProvider: string;
    vmta: string;
    blocks: number;
    attempts: number;
  }>;
  guardrails: GuardrailTrip[];
  settings: GuardrailSettings;
  unsubscribes: { byProvider: Record<string, number> };
  pending: PendingSummary;
}

interface ReportInputs {
  rows: readonly TrafficRow[];
  settings: GuardrailSettings;
  unsubscribesByProvider: Record<string, number>;
  pending: PendingSummary;
  since?: number | undefined;
  until?: number | undefined;
}

function ratesOf(c: TrafficCounts): Rates {
  const tries = attempts(c);
  return {
    complaintRate: complaintRate(c) ?? null,
    bounceRate: tries > 0 ? (c.hardBounces + c.softBounces) / tries : null,
    blockShare: tries > 0 ? blockTotal(c) / tries : null,
  };
}

function groupsBy(rows: readonly TrafficRow[], keyOf: (r: TrafficRow) => string): ReportGroup[] {
  return [...groupCounts(rows, keyOf).entries()]
    .map(([name, { counts }]) => ({ name, ...counts, ...ratesOf(counts) }))
    .sort(
      (a, b) => attempts(b) + b.complaints - (attempts(a) + a.complaints) || a.name.localeCompare(b.name),
    );
}

function domainState(name: string, group: TrafficCounts, trips: readonly GuardrailTrip[]) {
  const mine = trips.filter((t) => t.kind === 'complaint-rate' && t.sendingDomain === name);
  if (mine.some((t) => t.level === 'critical')) return 'critical' as const;
  if (mine.length > 0) return 'warn' as const;
  return group.deliveries > 0 ? ('ok' as const) : ('no-deliveries' as const);
}

function dailySeries(rows: readonly TrafficRow[]): DeliverabilityReport['daily'] {
  return [...groupCounts(rows, (r) => `${utcDay(r.hour)}\u0000${r.sendingDomain}`).values()]
    .map(({ first, counts }) => ({
      day: utcDay(first.hour),
      sendingDomain: first.sendingDomain,
      ...counts,
      ...ratesOf(counts),
    }))
    .sort((a, b) => a.day.localeCompare(b.day) || a.sendingDomain.localeCompare(b.sendingDomain));
}

/** Hours when the rows span at most three days, else days: enough points either way. */
function stepOf(rows: readonly TrafficRow[]): { step: 'hour' | 'day'; start: (hour: number) => number } {
  let first = Number.POSITIVE_INFINITY;
  let last = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    first = Math.min(first, r.hour);
    last = Math.max(last, r.hour);
  }
  if (rows.length === 0 || last - first <= 3 * DAY_MS) return { step: 'hour', start: (h) => h };
  return { step: 'day', start: (h) => Math.floor(h / DAY_MS) * DAY_MS };
}

function timelines(
  rows: readonly TrafficRow[],
): Pick<DeliverabilityReport, 'step' | 'timeline' | 'blockTimeline'> {
  const { step, start } = stepOf(rows);
  const iso = (ms: number) => new Date(ms).toISOString();
  const timeline = [...groupCounts(rows, (r) => String(start(r.hour))).values()]
    .map(({ first, counts }) => ({ t: iso(start(first.hour)), ...counts }))
    .sort((a, b) => a.t.localeCompare(b.t));
  const blockTimeline = [
    ...groupCounts(rows, (r) => `${start(r.hour)}\u0000${r.mailboxProvider}\u0000${r.vmta}`).values(),
  ]
    .map(({ first, counts }) => ({
      t: iso(start(first.hour)),
      mailboxProvider: first.mailboxProvider,
      vmta: first.vmta,
      blocks: blockTotal(counts),
      attempts: attempts(counts),
    }))
    .sort((a, b) => a.t.localeCompare(b.t) || a.mailboxProvider.localeCompare(b.mailboxProvider));
  return { step, timeline, blockTimeline };
}

function buildDeliverabilityReport(input: ReportInputs): DeliverabilityReport {
  const { rows, settings } = input;
  const totals = emptyCounts();
  for (const [, g] of groupCounts(rows, () => 'all')) Object.assign(totals, g.counts);
  const guardrails = evaluateGuardrails(rows, settings);
  return {
    window: {
      since: input.since === undefined ? null : new Date(input.since).toISOString(),
      until: input.until === undefined ? null : new Date(input.until).toISOString(),
    },
    totals: { ...totals, ...ratesOf(totals) },
    sendingDomains: groupsBy(rows, (r) => r.sendingDomain).map((g) => ({
      ...g,
      guardrail: domainState(g.name, g, guardrails),
    })),
    mailboxProviders: groupsBy(rows, (r) => r.mailboxProvider),
    vmtas: groupsBy(rows, (r) => r.vmta),
    jobs: groupsBy(rows, (r) => r.job),
    daily: dailySeries(rows),
    ...timelines(rows),
    guardrails,
    settings,
    unsubscribes: { byProvider: input.unsubscribesByProvider },
    pending: input.pending,
  };
}

export type { DeliverabilityReport, PendingSummary, Rates, ReportGroup, ReportInputs };
export { buildDeliverabilityReport, DAY_MS };
