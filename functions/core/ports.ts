/**
 * Every port of the core: the interfaces the core and the function orchestration (functions/lambda,
 * functions/cli) depend on, and that the adapters (functions/adapters/<technology>) implement.
 * Adapters and orchestration import their interfaces from here, never from an adapter
 * (docs/architecture.md). Only declarations and the value vocabularies of their results live here;
 * the pure helpers that go with them stay in their own core files.
 */
import type { Action, RestoreRequest } from './act/action.ts';
import type { SoftCounting } from './decide/soft-bounce-window.ts';
import type { PendingSummary } from './guardrails/deliverability-report.ts';
import type { TrafficRow } from './guardrails/traffic.ts';
import type { SubscriberRef } from './mail-event.ts';

/** Milliseconds since the epoch, now. Injected so the core never reads the system clock. */
type Clock = () => number;

// ---------------------------------------------------------------- logging

/** The slice of a structured logger (Powertools Logger fits) the cloud functions use. */
interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

// ---------------------------------------------------------------- list providers
// What every list manager adapter (MailWizz, Interspire, webhook, ...) offers. Results are values
// per list so the audit can say exactly which lists changed.

const ListOutcome = {
  /** The subscription was active and is now unsubscribed. */
  done: 'done',
  /** It was already unsubscribed (or blacklisted) before this call. */
  already: 'already',
  /** The address or subscriber does not exist there: nothing to do, counts as success. */
  notFound: 'not-found',
  /**
   * Undo only: the provider's API cannot put this subscription back (or something outside this
   * product blocks it); the operator must, by hand.
   */
  manual: 'manual',
} as const;
type ListOutcome = (typeof ListOutcome)[keyof typeof ListOutcome];

interface ListResult {
  listId: string;
  listName?: string;
  outcome: ListOutcome;
  /**
   * Optional: the subscription's status at the provider before this call (e.g. MailWizz
   * `confirmed`), so an undo can put it back exactly.
   */
  previousStatus?: string;
}

interface ProviderResult {
  provider: string;
  /** One entry per list looked at. Empty when the provider knows nothing of the address. */
  lists: ListResult[];
  /** HTTP requests this operation made (for the summary and benchmarks). */
  calls: number;
}

/** Why we act: carried to the provider for its own records and to webhooks. */
interface ActionContext {
  /** Stable id of the action: the same across retries (webhook-id, idempotency key). */
  actionId: string;
  kind: 'bounce' | 'complaint' | 'unsubscribe';
  reason: string;
  category?: string;
  /** Bounces: the classification rule id (`pmta` when PowerMTA's bounceCat was trusted). */
  rule?: string;
  /** Bounces: a hard category, or a soft one whose count reached the policy threshold. */
  bounceType?: 'hard' | 'soft';
  /** The accounting record's jobId; `mailwizz-<campaign_uid>` names a MailWizz campaign. */
  jobId?: string;
  diagnostic?: string;
  /** When the event happened (ms since epoch), if known. */
  occurredAt?: number;
}

/** A subscriber's address looked up by the provider's ids. */
interface EmailLookup {
  /** Undefined when the ids are unknown there, or the provider only shows a masked address. */
  email: string | undefined;
  /** HTTP requests the lookup made. */
  calls: number;
}

interface CredentialCheck {
  ok: boolean;
  /** Human detail without secrets, e.g. "API key accepted; 12 lists". */
  detail: string;
}

interface ListProvider {
  /** The configured id (`providers[].id`). */
  readonly id: string;
  /** The provider type (`mailwizz`, ...). */
  readonly type: string;
  /** Take the address off every list this provider has. */
  unsubscribeEverywhere(email: string, context: ActionContext): Promise<ProviderResult>;
  /** Take one subscription off one list, by the provider's ids. */
  unsubscribeFromList(ref: SubscriberRef, context: ActionContext): Promise<ProviderResult>;
  /**
   * Optional: the subscriber's address by this provider's ids, in one call. Lets a by-ids action
   * that policy wants applied everywhere (a complaint that hid its recipient) reach every list
   * and every provider (core/act/widen-action.ts).
   */
  findEmail?(ref: SubscriberRef): Promise<EmailLookup>;
  /** Verify credentials with the cheapest authenticated call. */
  /**
   * Optional: put back subscriptions this product unsubscribed (`pmta-bounce undo`). Per list:
   * done (restored to its previous status), already (not in the state we left it: left alone),
   * not-found, or manual (the API cannot). Without it every list is listed as manual.
   */
  resubscribe?(
    email: string,
    lists: readonly RestoreRequest[],
    context: ActionContext,
  ): Promise<ProviderResult>;
  checkCredentials(): Promise<CredentialCheck>;
}

// ---------------------------------------------------------------- suppression state
// Who is taken off (per normalised address or provider-id subject), soft-bounce counters with
// their window, and the audit trail of every decision and provider outcome. Batch-shaped so
// adapters can use transactions (SQLite) or batched calls (DynamoDB).

interface SuppressionRequest {
  subject: string;
  kind: string;
  category?: string | undefined;
  reason: string;
  /** Record identity (dedupe key) that caused it. */
  recordKey: string;
  /** ms since epoch. */
  at: number;
  /** Providers this subject must reach (routing result). */
  providers: readonly string[];
  /**
   * ms since epoch: a provisional suppression (ids nobody has vouched for yet, e.g. a mailto
   * unsubscribe). A new subject is written to expire then unless `confirm` makes it permanent; an
   * expired one counts as absent. An existing permanent suppression is left as it is.
   */
  expiresAt?: number | undefined;
  /** Bounces: the classification rule id (kept for export and `undo --rule`). */
  rule?: string | undefined;
  /** The accounting record type (`b`, `rb`, `f`, ...) or `import:<format>` for imported rows. */
  recordType?: string | undefined;
  /** The accounting record's jobId (kept for export and `undo --job`). */
  jobId?: string | undefined;
  /**
   * Providers settled from the start: nothing is owed to them for a new subject (an import that
   * records only). Absent = none.
   */
  providersDone?: readonly string[] | undefined;
}

interface SuppressionOutcome {
  subject: string;
  /**
   * new: first time suppressed; pending: suppressed before but some routed providers are not
   * done yet (a failed earlier run, or a provider added since); already: nothing left to do.
   */
  state: 'new' | 'pending' | 'already';
  /** Routed providers not yet done for this subject. */
  pendingProviders: string[];
}

interface SoftBounceRequest {
  address: string;
  recordKey: string;
  at: number;
  /** The address's latest delivery in the same batch (not yet stored): a reset like a stored one. */
  resetAt?: number | undefined;
}

/** A successful delivery (`d` record): the address's soft count starts again after `at`. */
interface DeliveryRequest {
  address: string;
  at: number;
}

interface AuditEntry {
  subject: string;
  at: number;
  /** decision: what the core decided for a record; provider: what a provider call did. */
  type: 'decision' | 'provider';
  action: string;
  reason: string;
  provider?: string | undefined;
  outcome?: 'done' | 'already' | 'not-found' | 'failed' | 'manual' | undefined;
  lists?: ListResult[] | undefined;
  line?: number | undefined;
  recordKey?: string | undefined;
  /** The classification rule behind a bounce decision (a rule id, `pmta` or `default`). */
  rule?: string | undefined;
  /** ms since epoch: the entry expires then unless `confirm` keeps the subject's trail. */
  expiresAt?: number | undefined;
}

interface SubjectStatus {
  subject: string;
  suppressed:
    | {
        at: number;
        kind: string;
        category?: string | undefined;
        reason: string;
        providersDone: string[];
        /** Set while the suppression is provisional (SuppressionRequest.expiresAt). */
        expiresAt?: number | undefined;
      }
    | undefined;
  /** recordKey: the local state keeps only its hash, shown as `h:` and 14 hex digits (docs/interfaces.md). */
  softBounces: Array<{ at: number; recordKey: string }>;
  audit: AuditEntry[];
}

interface SuppressionStore {
  /** Marks subjects suppressed (idempotent); one outcome per request, in order. */
  suppress(requests: readonly SuppressionRequest[]): Promise<SuppressionOutcome[]>;
  /**
   * Adds soft bounces (a record key is counted once, however often replayed) and returns, per
   * request, the most soft bounces of that address found in any window of windowMs that contains
   * `at` (core/decide/soft-bounce-window.ts): in time order that is [at - windowMs, at]; out of order a
   * late-decided earlier bounce still completes the count.
   */
  recordSoftBounces(
    requests: readonly SoftBounceRequest[],
    counting: SoftCounting | number,
  ): Promise<number[]>;
  /**
   * Deliveries reset soft counts (countSoftBounces' `resetAt`): kept only for addresses that have
   * soft bounces, so logging every `d` record does not grow the state.
   */
  recordDeliveries(deliveries: readonly DeliveryRequest[]): Promise<void>;
  /** A provider finished (or gave up on) a subject. */
  markProvider(subject: string, provider: string, outcome: 'done' | 'failed'): Promise<void>;
  appendAudit(entries: readonly AuditEntry[]): Promise<void>;
  /**
   * A provider vouched for the subject (the subscription exists): its provisional suppression and
   * audit entries become permanent. Nothing happens to an unknown or already permanent subject.
   */
  confirm(subject: string): Promise<void>;
  status(subject: string): Promise<SubjectStatus>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- action claims
// Claims on actions, as Powertools idempotency does it: claim (with an expiry) → run → complete
// or release (functions/adapters/dynamodb/dynamodb-action-claims.ts).

/**
 * `forgotten`: the suppression the action was written for is gone (an operator's `undo` forgot
 * it) or is being undone: the action is obsolete and must call no provider.
 */
const ClaimResult = { claimed: 'claimed', inProgress: 'in-progress', forgotten: 'forgotten' } as const;
type ClaimResult = (typeof ClaimResult)[keyof typeof ClaimResult];

/** A provider's outcome as the state records it (SuppressionStore.markProvider). */
interface ProviderMark {
  provider: string;
  outcome: 'done' | 'failed';
}

interface ActionClaims {
  claim(actionId: string, token: string, providers: readonly string[], nowMs: number): Promise<ClaimResult>;
  complete(actionId: string, token: string, nowMs: number): Promise<void>;
  release(actionId: string, token: string): Promise<void>;
  /**
   * Optional: claim and read the providers already done, in one request. `slot` (core/act/action.ts
   * claimSlot): where the claim and the done set live; absent = the subject's suppression itself.
   */
  claimReading?(
    subject: string,
    token: string,
    nowMs: number,
    slot?: string,
  ): Promise<{ claim: ClaimResult; done: string[] }>;
  /**
   * Optional: record the provider outcomes and drop the claim, in as few requests as possible
   * (no marks: only drop it). `slot` as for claimReading.
   */
  finish?(subject: string, token: string, marks: readonly ProviderMark[], slot?: string): Promise<void>;
}

// ---------------------------------------------------------------- local mode's outbox
// Local mode's outbox (the cloud's actions queue plays the same part): an action is written before
// any provider call and leaves only when every provider finished. A provider that failed
// permanently is *parked*: kept and counted, run again only by `pmta-bounce retry`.

interface ParkedProvider {
  subject: string;
  provider: string;
  /** The provider's answer, e.g. `mw: unexpected redirect (HTTP 301)`. */
  error: string;
  at: number;
}

interface OutboxSelection {
  /** Include parked providers (the `retry` command); default: only those not parked. */
  parked?: boolean;
  /** Only actions owed to this provider, narrowed to it. */
  provider?: string;
}

interface OutboxSummary {
  /** Actions still owed to at least one provider. */
  pending: number;
  /** Of those, actions with at least one parked provider. */
  parkedActions: number;
  /** Per provider: parked actions and the latest error. */
  parked: Array<{ provider: string; actions: number; lastError: string; lastAt: number }>;
}

interface ActionOutbox {
  enqueue(actions: readonly Action[]): void;
  /** Every provider finished: the action leaves the outbox. */
  complete(subject: string): void;
  park(entry: ParkedProvider): void;
  /** Actions owed, each narrowed to the providers not done yet (and not parked, unless asked). */
  pending(selection?: OutboxSelection): Action[];
  summary(): OutboxSummary;
  /** Parked providers of one subject (for `status`). */
  parkedFor(subject: string): ParkedProvider[];
}

// ---------------------------------------------------------------- deliverability counts
// Hourly aggregates added per batch, read back by time range for the report and the guardrails
// (docs/guardrails.md). SQLite locally, DynamoDB in the cloud.

interface TrafficStore {
  /**
   * Adds these aggregates to the stored totals. `batchId` names the input they came from (an SQS
   * message's `<host>/<stream>/<seq>`): adding the same batch again changes nothing, so a
   * redelivered message is counted once.
   */
  addTraffic(rows: readonly TrafficRow[], batchId?: string): Promise<void>;
  /** Stored aggregates whose hour lies in [since, until) (ms; either end open when undefined). */
  trafficRows(since?: number, until?: number): Promise<TrafficRow[]>;
  /** Provider calls that took someone off, per provider, in the same range (from the audit trail). */
  unsubscribesByProvider(since?: number, until?: number): Promise<Record<string, number>>;
  /** Actions still waiting for a provider, and how many were requested more than 24 h before `now`. */
  pendingSummary(now: number): Promise<PendingSummary>;
}

// ---------------------------------------------------------------- the records queue

/** How the envelope reader undoes a body's compression (node:zlib: adapters/sqs/gzip-base64.ts). */
interface EnvelopeCodec {
  /** base64 text of gzipped bytes → the UTF-8 text inside. May throw; the throw becomes an error value. */
  gunzipBase64: (base64: string) => string;
  /** The same for brotli-compressed bytes. */
  unbrotliBase64: (base64: string) => string;
}

// ---------------------------------------------------------------- the actions queue

interface ActionSender {
  send(actions: readonly Action[]): Promise<void>;
}

interface VisibilityControl {
  /** Next delivery of this message no sooner than `seconds` from now. */
  delay(eventSourceArn: string, receiptHandle: string, seconds: number): Promise<void>;
}

// ---------------------------------------------------------------- rejects

interface RejectEntry {
  line: number;
  raw: string;
  reason: string;
}

interface RejectLog {
  /** `source` names the message (`<host>/<stream>/<seq>` or `sqs/<messageId>`). */
  record(source: string, rejects: readonly RejectEntry[], nowMs: number): Promise<void>;
  list(day: string): Promise<Array<RejectEntry & { source: string; at: number }>>;
}

// ---------------------------------------------------------------- unsubscribe mail

/** Fixed-window counters shared by every invocation (core/unsubscribe/unsubscribe-rate-limit.ts). */
interface RateCounter {
  /**
   * Adds 1 to the counter of each key in the window that starts at `windowStart` (ms) and returns
   * the new counts, in order. The counters may be dropped after `expiresAt` (ms).
   */
  increment(keys: readonly string[], windowStart: number, expiresAt: number): Promise<number[]>;
}

/** HMAC-SHA256 of `message` (UTF-8) under `key` (UTF-8): 32 bytes (the core does no crypto). */
type HmacSha256 = (key: string, message: string) => Uint8Array;

// ---------------------------------------------------------------- metrics

type Dimensions = Readonly<Record<string, string>>;

interface MetricSink {
  count(name: string, dimensions?: Dimensions, value?: number): void;
  /** A duration in ms. */
  timing(name: string, dimensions: Dimensions, ms: number): void;
  /** Publishes and clears what was recorded. */
  flush(): void;
}

// ---------------------------------------------------------------- postmaster notices and digest
// Notices (complaints, actions that failed for good) wait for the next digest: producers (ingest,
// act) add; the digest function reads the oldest, mails them as one digest, removes what it sent.

const NoticeKind = {
  complaint: 'complaint',
  actionFailed: 'action-failed',
} as const;
type NoticeKind = (typeof NoticeKind)[keyof typeof NoticeKind];

interface PostmasterNotice {
  /** Stable identity: the same event recorded twice (a replay) is one notice. */
  id: string;
  kind: NoticeKind;
  /** When it happened, ms since epoch. */
  at: number;
  /** The recipient address, or the provider-ids subject `ref:<type>:<list>:<subscriber>`. */
  subject: string;
  /** Why (the decision reason, or what failed). */
  reason: string;
  provider?: string | undefined;
  /** Complaint feedback type, or bounce category. */
  category?: string | undefined;
  /** Provider error or diagnostic text, as received (it is escaped when mailed). */
  detail?: string | undefined;
  jobId?: string | undefined;
}

/** A notice as stored: `key` is what `remove` takes. */
interface StoredNotice extends PostmasterNotice {
  key: string;
}

interface NoticeStore {
  /** Adds notices (idempotent per id). */
  add(notices: readonly PostmasterNotice[]): Promise<void>;
  /** The oldest pending notices, at most `limit`. */
  pending(limit: number): Promise<StoredNotice[]>;
  remove(keys: readonly string[]): Promise<void>;
}

interface PostmasterDigest {
  subject: string;
  text: string;
  html: string;
}

interface DigestMail extends PostmasterDigest {
  from: string;
  to: string;
}

interface DigestMailer {
  /** Returns the provider's message id. */
  send(mail: DigestMail): Promise<string | undefined>;
}

export type {
  ActionClaims,
  ActionContext,
  ActionOutbox,
  ActionSender,
  AuditEntry,
  Clock,
  CredentialCheck,
  DeliveryRequest,
  DigestMail,
  DigestMailer,
  Dimensions,
  EmailLookup,
  EnvelopeCodec,
  HmacSha256,
  ListProvider,
  ListResult,
  Log,
  MetricSink,
  NoticeStore,
  OutboxSelection,
  OutboxSummary,
  ParkedProvider,
  PostmasterDigest,
  PostmasterNotice,
  ProviderMark,
  ProviderResult,
  RateCounter,
  RejectEntry,
  RejectLog,
  RestoreRequest,
  SoftBounceRequest,
  StoredNotice,
  SubjectStatus,
  SuppressionOutcome,
  SuppressionRequest,
  SuppressionStore,
  TrafficStore,
  VisibilityControl,
};
export { ClaimResult, ListOutcome, NoticeKind };
