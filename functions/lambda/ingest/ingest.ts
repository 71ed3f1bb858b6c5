/**
 * The ingest function's logic: each SQS message (an envelope of raw accounting lines) → parse →
 * dedupe within the message → decide (suppression state and soft-bounce counters in the store) →
 * one Action per recipient still owed a provider call → actions queue. Rejects are kept in the
 * reject log. Each complaint acted on becomes a postmaster notice (when `notify` is configured).
 * Messages are independent: one failing returns alone to the queue.
 */
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { createAccountingReader } from '#core/accounting/accounting-reader.ts';
import { mapLimit } from '#core/act/map-limit.ts';
import type { Classifier } from '#core/classify/classify.ts';
import type { GuardrailsConfig, PolicyConfig } from '#core/config-schema.ts';
import { type DecideResult, decideRecords, RowAction } from '#core/decide/decide-records.ts';
import type { Router } from '#core/decide/routing.ts';
import { CONTENT_ENCODING_ATTRIBUTE, decodeEnvelope, envelopeRecords } from '#core/envelope/envelope.ts';
import type { TrafficRow } from '#core/guardrails/traffic.ts';
import type { TrafficCounter } from '#core/guardrails/traffic-counter.ts';
import { trafficMetrics } from '#core/guardrails/traffic-metrics.ts';
import { EventKind, type ParseOutcome } from '#core/mail-event.ts';
import { complaintNotice } from '#core/notify/postmaster-notices.ts';
import type {
  ActionSender,
  Clock,
  EnvelopeCodec,
  Log,
  MetricSink,
  PostmasterNotice,
  RejectLog,
  SuppressionStore,
} from '#core/ports.ts';
import { DIMENSIONS, METRICS } from '../metric-names.ts';

interface IngestDeps {
  classifier: Classifier;
  policy: PolicyConfig;
  router: Router;
  store: SuppressionStore;
  rejectLog: RejectLog;
  actions: ActionSender;
  codec: EnvelopeCodec;
  metrics: MetricSink;
  log: Log;
  now: Clock;
  /** Layout before any header line (config `accounting.fields`). */
  accountingFields?: readonly string[] | undefined;
  /** Messages processed in parallel (each one's store calls are batched already). */
  concurrency?: number;
  /** Deliverability counts (docs/guardrails.md); undefined in tests that do not need them. */
  countTraffic?: TrafficCounter | undefined;
  /** Which sending domains and VirtualMTAs keep their own metric dimension. */
  guardrails?: Pick<GuardrailsConfig, 'sendingDomains' | 'vmtas'> | undefined;
  /** Records postmaster notices for the digest; undefined when `notify` is not configured. */
  notices?: ((notices: PostmasterNotice[]) => Promise<void>) | undefined;
}

interface IngestSummary {
  records: number;
  duplicates: number;
  actions: number;
  rejects: number;
}

const NEWLINE = Buffer.from('\n');
const BOUNCE_TYPES = new Set(['b', 'rb']);

/** Every outcome of the message's lines, in order; a record repeated inside the message counts once. */
function parseMessage(
  lines: ReturnType<typeof envelopeRecords>,
  header: string | undefined,
  fields: readonly string[] | undefined,
): { outcomes: ParseOutcome[]; duplicates: number } {
  const outcomes: ParseOutcome[] = [];
  const keys = new Set<string>();
  let duplicates = 0;
  const reader = createAccountingReader(fields ? { fields } : {}, (o) => {
    if (o.ok) {
      if (keys.has(o.event.key)) {
        duplicates += 1;
        return;
      }
      keys.add(o.event.key);
    }
    outcomes.push(o);
  });
  if (header !== undefined) {
    reader.write(header);
    reader.write(NEWLINE);
  }
  for (const line of lines) {
    reader.write(line.rawBase64 ? Buffer.from(line.rawBase64, 'base64') : line.text);
    reader.write(NEWLINE);
  }
  reader.end();
  return { outcomes, duplicates };
}

/**
 * One notice per complaint this message unsubscribes. A complaint already suppressed and finished
 * is a replay (or a repeat) and is not announced again; one still pending (a retried message)
 * yields the same notice id and time, so the store keeps one item.
 */
function complaintNotices(
  outcomes: readonly ParseOutcome[],
  result: DecideResult,
  fallbackAt: number,
): PostmasterNotice[] {
  const notices: PostmasterNotice[] = [];
  // decideRecords returns exactly one row per outcome, in order.
  outcomes.forEach((o, i) => {
    const row = result.rows[i];
    if (o.ok && o.event.kind === EventKind.complaint && row?.action === RowAction.unsubscribe)
      notices.push(complaintNotice(o.event, row.reason, fallbackAt));
  });
  return notices;
}

function countDecisions(result: DecideResult, metrics: MetricSink): void {
  for (const row of result.rows) {
    const type = row.action === RowAction.reject ? 'invalid' : row.type;
    metrics.count(METRICS.recordsIn, { [DIMENSIONS.recordType]: type });
    metrics.count(METRICS.decisions, { [DIMENSIONS.action]: row.action });
    if (BOUNCE_TYPES.has(row.type) && row.category && row.action !== RowAction.reject) {
      metrics.count(METRICS.bounces, { [DIMENSIONS.category]: row.category });
    }
  }
  if (result.rejects.length > 0) metrics.count(METRICS.rejects, {}, result.rejects.length);
}

const TRAFFIC_METRICS = {
  deliveries: METRICS.deliveries,
  complaints: METRICS.complaints,
  attempts: METRICS.attempts,
  blocks: METRICS.blocks,
} as const;

/** The message's deliverability counts as metrics with bounded dimensions (docs/guardrails.md). */
function countTraffic(
  rows: readonly TrafficRow[],
  guardrails: IngestDeps['guardrails'] & {},
  metrics: MetricSink,
): void {
  for (const m of trafficMetrics(rows, guardrails)) {
    const d = m.dimensions;
    const dimensions: Record<string, string> =
      'sendingDomain' in d
        ? { [DIMENSIONS.sendingDomain]: d.sendingDomain }
        : { [DIMENSIONS.mailboxProvider]: d.mailboxProvider, [DIMENSIONS.vmta]: d.vmta };
    metrics.count(TRAFFIC_METRICS[m.metric], dimensions, m.value);
  }
}

async function ingestAccountingMessage(record: SQSRecord, deps: IngestDeps): Promise<IngestSummary> {
  const encoding = record.messageAttributes?.[CONTENT_ENCODING_ATTRIBUTE]?.stringValue;
  const decoded = decodeEnvelope(record.body, encoding, deps.codec);
  if (!decoded.ok) {
    // Retrying cannot fix a body that does not decode: keep it as a reject and acknowledge it.
    const reason = `undecodable message: ${decoded.error.field}: ${decoded.error.reason}`;
    await deps.rejectLog.record(
      `sqs/${record.messageId}`,
      [{ line: 0, raw: record.body, reason }],
      deps.now(),
    );
    deps.metrics.count(METRICS.rejects);
    deps.log.warn('message rejected', { messageId: record.messageId, reason });
    return { records: 0, duplicates: 0, actions: 0, rejects: 1 };
  }
  const envelope = decoded.envelope;
  const { outcomes, duplicates } = parseMessage(
    envelopeRecords(envelope),
    envelope.header,
    deps.accountingFields,
  );
  const result = await decideRecords(outcomes, {
    classifier: deps.classifier,
    policy: deps.policy,
    router: deps.router,
    store: deps.store,
    now: deps.now,
  });
  const source = `${envelope.host}/${envelope.stream}/${envelope.seq}`;
  await deps.rejectLog.record(source, result.rejects, deps.now());
  if (deps.notices) {
    // Before the actions are sent, for the same reason as the state: a failure replays the message.
    // SentTimestamp is the same on every redelivery, so a complaint without a time keeps its key.
    const sentAt = Number(record.attributes?.SentTimestamp);
    await deps.notices(complaintNotices(outcomes, result, sentAt > 0 ? sentAt : deps.now()));
  }
  // Keyed by the message's source, so a redelivered message replaces its own counts.
  const traffic = await deps.countTraffic?.(outcomes, result.rows, source.replaceAll('#', '_'));
  if (traffic && deps.guardrails) countTraffic(traffic, deps.guardrails, deps.metrics);
  // State is written before the actions are sent: if sending fails the message comes back, and
  // the store answers `pending` for those subjects, so the actions are emitted again.
  await deps.actions.send(result.actions);
  countDecisions(result, deps.metrics);
  if (result.rejects.length > 0) {
    deps.log.warn('records rejected', {
      source,
      rejects: result.rejects.length,
      first: { line: result.rejects[0]!.line, reason: result.rejects[0]!.reason },
    });
  }
  return {
    records: outcomes.length,
    duplicates,
    actions: result.actions.length,
    rejects: result.rejects.length,
  };
}

/** One settled result per record, in order (middy's sqs-partial-batch-failure turns them into batchItemFailures). */
async function ingestAccountingBatch(
  event: SQSEvent,
  deps: IngestDeps,
): Promise<Array<PromiseSettledResult<IngestSummary>>> {
  try {
    return await mapLimit(event.Records, deps.concurrency ?? 2, async (record) => {
      try {
        return { status: 'fulfilled', value: await ingestAccountingMessage(record, deps) } as const;
      } catch (error) {
        deps.log.error('message failed; it returns to the queue', {
          messageId: record.messageId,
          error: error instanceof Error ? error.message : String(error),
        });
        return { status: 'rejected', reason: error } as const;
      }
    });
  } finally {
    deps.metrics.flush();
  }
}

export type { IngestDeps, IngestSummary };
export { ingestAccountingBatch, ingestAccountingMessage };
