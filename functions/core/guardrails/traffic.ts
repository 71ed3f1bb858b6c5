/**
 * Deliverability counting (docs/guardrails.md): every delivery, bounce and complaint becomes one
 * increment of an hourly aggregate keyed by sending domain, mailbox provider, VirtualMTA and job.
 * Aggregates only, never per-message rows. Pure: the caller persists the tally.
 */
import { SENDER_SIDE_CATEGORIES } from '../config-schema.ts';
import { domainOf, type MailboxProviderTable } from './mailbox-provider.ts';

/** What the counter needs of one accounting record (the parser fills it for d, b, rb and f). */
interface TrafficSample {
  /** ms since epoch (PowerMTA's timeLogged). */
  at: number;
  recordType: string;
  /** The envelope sender (`orig`), lower case. */
  orig: string | undefined;
  recipient: string | undefined;
  vmta: string | undefined;
  jobId: string | undefined;
}

const TrafficClass = {
  delivery: 'delivery',
  hard: 'hard',
  soft: 'soft',
  block: 'block',
  complaint: 'complaint',
} as const;
type TrafficClass = (typeof TrafficClass)[keyof typeof TrafficClass];

interface TrafficKey {
  /** UTC hour start, ms since epoch. */
  hour: number;
  sendingDomain: string;
  mailboxProvider: string;
  vmta: string;
  job: string;
}

interface TrafficCounts {
  deliveries: number;
  hardBounces: number;
  softBounces: number;
  complaints: number;
  /** Sender-side blocks per bounce category (spam-related, policy-related, ...). */
  blocks: Record<string, number>;
}

interface TrafficRow extends TrafficKey, TrafficCounts {}

const HOUR_MS = 3_600_000;
const SENDER_SIDE = new Set<string>(SENDER_SIDE_CATEGORIES);
/** Stand-in for an absent dimension value (PowerMTA leaves vmta or jobId empty at times). */
const NONE = '-';
/** Longest dimension value kept; longer ones are cut so a hostile field cannot bloat the state. */
const MAX_DIMENSION = 120;

function emptyCounts(): TrafficCounts {
  return { deliveries: 0, hardBounces: 0, softBounces: 0, complaints: 0, blocks: {} };
}

/**
 * The traffic class of a decided record: deliveries and complaints by record type; a bounce by its
 * category — sender-side categories are blocks, the configured hard ones hard, the rest soft.
 * `undefined` for records that are none of these (a not-spam report, a delayed DSN).
 */
function trafficClassOf(
  recordType: string,
  category: string | undefined,
  hardCategories: ReadonlySet<string>,
  isComplaint: boolean,
): TrafficClass | undefined {
  if (recordType === 'd') return TrafficClass.delivery;
  if (recordType === 'f') return isComplaint ? TrafficClass.complaint : undefined;
  if (recordType !== 'b' && recordType !== 'rb') return undefined;
  if (category && SENDER_SIDE.has(category)) return TrafficClass.block;
  return category && hardCategories.has(category) ? TrafficClass.hard : TrafficClass.soft;
}

function dimension(value: string | undefined): string {
  const v = value?.trim().toLowerCase();
  return v ? v.slice(0, MAX_DIMENSION) : NONE;
}

/** Distinct raw values remembered per dimension before the memo starts over (bounds memory). */
const MEMO_LIMIT = 10_000;

/** In-memory hourly aggregates for one run or one batch; the store adds them to its totals. */
class TrafficTally {
  /** Rows in the order they were first counted, and the same rows by hour, then each dimension. */
  private readonly rows: TrafficRow[] = [];
  private readonly byHour = new Map<number, Map<string, Map<string, Map<string, Map<string, TrafficRow>>>>>();
  // Senders, VirtualMTAs and jobs repeat across records: each raw value is normalised once.
  private readonly sendingDomains = new Map<string, string>();
  private readonly vmtas = new Map<string, string>();
  private readonly jobs = new Map<string, string>();
  private readonly withJobs: boolean;

  /**
   * `jobs: false` counts every job as one (NONE): the guardrails group by sending domain, mailbox
   * provider and VirtualMTA only, and a tally judged in memory (a dry run) then stays as small as
   * hours x senders x providers x VirtualMTAs, however many campaigns the file holds.
   */
  constructor(
    private readonly providers: MailboxProviderTable,
    options: { jobs?: boolean } = {},
  ) {
    this.withJobs = options.jobs ?? true;
  }

  add(sample: TrafficSample, cls: TrafficClass, category?: string): void {
    this.count(sample.at, sample.orig, sample.recipient, sample.vmta, sample.jobId, cls, category);
  }

  /** `add` without a sample object: one call per record on the hot path (cli/process). */
  count(
    at: number,
    orig: string | undefined,
    recipient: string | undefined,
    rawVmta: string | undefined,
    jobId: string | undefined,
    cls: TrafficClass,
    category?: string,
  ): void {
    const hour = Math.floor(at / HOUR_MS) * HOUR_MS;
    const sendingDomain = memo(this.sendingDomains, orig, (o) => dimension(domainOf(o)));
    const mailboxProvider = this.providers.of(domainOf(recipient));
    const vmta = memo(this.vmtas, rawVmta, dimension);
    const job = this.withJobs ? memo(this.jobs, jobId, dimension) : NONE;
    const row = this.rowFor(hour, sendingDomain, mailboxProvider, vmta, job);
    increment(row, cls, category);
  }

  /** Adds a row counted elsewhere (another tally's, or the store's) under this tally's dimensions. */
  addRow(from: TrafficRow): void {
    const job = this.withJobs ? from.job : NONE;
    addCounts(this.rowFor(from.hour, from.sendingDomain, from.mailboxProvider, from.vmta, job), from);
  }

  /**
   * The row of one key, found through one map per dimension: the dimension values are the memo's
   * interned strings, so no key string is built per record (measured: a tenth of a dry run's
   * allocations, docs/benchmarks.md).
   */
  private rowFor(hour: number, sendingDomain: string, mailboxProvider: string, vmta: string, job: string) {
    const byDomain = child(this.byHour, hour);
    const byProvider = child(byDomain, sendingDomain);
    const byVmta = child(byProvider, mailboxProvider);
    const byJob = child(byVmta, vmta);
    let row = byJob.get(job);
    if (!row) {
      row = { hour, sendingDomain, mailboxProvider, vmta, job, ...emptyCounts() };
      byJob.set(job, row);
      this.rows.push(row);
    }
    return row;
  }

  get size(): number {
    return this.rows.length;
  }

  entries(): TrafficRow[] {
    return [...this.rows];
  }

  clear(): void {
    this.rows.length = 0;
    this.byHour.clear();
  }
}

type Level<K, V> = Map<K, V>;

function child<K, V>(map: Level<K, Map<string, V>>, key: K): Map<string, V> {
  let next = map.get(key);
  if (!next) {
    next = new Map();
    map.set(key, next);
  }
  return next;
}

function memo(
  cache: Map<string, string>,
  raw: string | undefined,
  normalise: (raw: string) => string,
): string {
  if (raw === undefined) return NONE;
  let value = cache.get(raw);
  if (value === undefined) {
    value = normalise(raw);
    if (cache.size >= MEMO_LIMIT) cache.clear();
    cache.set(raw, value);
  }
  return value;
}

function increment(counts: TrafficCounts, cls: TrafficClass, category: string | undefined): void {
  if (cls === TrafficClass.delivery) counts.deliveries++;
  else if (cls === TrafficClass.hard) counts.hardBounces++;
  else if (cls === TrafficClass.soft) counts.softBounces++;
  else if (cls === TrafficClass.complaint) counts.complaints++;
  else {
    const c = category ?? 'other';
    counts.blocks[c] = (counts.blocks[c] ?? 0) + 1;
  }
}

/** Adds `from` into `into` (report roll-ups). */
function addCounts(into: TrafficCounts, from: TrafficCounts): void {
  into.deliveries += from.deliveries;
  into.hardBounces += from.hardBounces;
  into.softBounces += from.softBounces;
  into.complaints += from.complaints;
  for (const [c, n] of Object.entries(from.blocks)) into.blocks[c] = (into.blocks[c] ?? 0) + n;
}

function blockTotal(counts: TrafficCounts): number {
  let n = 0;
  for (const v of Object.values(counts.blocks)) n += v;
  return n;
}

/** Delivery attempts that reached a verdict: deliveries, bounces of every kind. */
function attempts(counts: TrafficCounts): number {
  return counts.deliveries + counts.hardBounces + counts.softBounces + blockTotal(counts);
}

export type { TrafficCounts, TrafficKey, TrafficRow, TrafficSample };
export {
  addCounts,
  attempts,
  blockTotal,
  emptyCounts,
  HOUR_MS,
  NONE,
  TrafficClass,
  TrafficTally,
  trafficClassOf,
};
