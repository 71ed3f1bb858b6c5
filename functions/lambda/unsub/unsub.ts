/**
 * The unsub function's logic: a SES receipt event (Lambda action, one mail per record) → for each
 * `receipt.recipients` address the core check → suppression state → actions queue. Logs carry
 * recipient addresses, verdicts and reasons only: never the body (not in the event anyway), never
 * the headers.
 *
 * A store or queue failure throws: SES retries an async Lambda invocation, and a replay is
 * harmless (the state says `pending` and the action is sent again, the act side is idempotent).
 * A mail over a rate limit throws too (UnsubscribeDeferredError), after the rest of the event:
 * Lambda retries it twice, then parks it in the unsub dead-letter queue for a redrive.
 */
import type { SESEvent, SESEventRecord } from 'aws-lambda';
import type { ActionSender, Clock, Log, MetricSink, RateCounter, SuppressionStore } from '#core/ports.ts';
import type { InboundUnsubscribeSettings } from '#core/unsubscribe/inbound-unsubscribe.ts';
import { recordInboundUnsubscribes } from '#core/unsubscribe/record-inbound-unsubscribes.ts';
import { DIMENSIONS, METRICS } from '../metric-names.ts';

interface InboundUnsubscribeDeps {
  settings: InboundUnsubscribeSettings;
  store: SuppressionStore;
  /** Shared counters of the rate limits (settings.rateLimit); absent = no limit. */
  rateCounter?: RateCounter | undefined;
  actions: ActionSender;
  metrics: MetricSink;
  log: Log;
  now: Clock;
}

interface InboundUnsubscribeSummary {
  recipients: number;
  accepted: number;
  refused: number;
  actions: number;
}

/** Thrown once an event is done when a mail of it went over a rate limit: SES must retry it. */
class UnsubscribeDeferredError extends Error {
  override readonly name = 'UnsubscribeDeferredError';
}

/** SES sends at most a few recipients per mail; more is not a real unsubscribe. */
const MAX_RECIPIENTS = 50;

async function handleInboundUnsubscribeEvent(
  event: SESEvent,
  deps: InboundUnsubscribeDeps,
): Promise<InboundUnsubscribeSummary> {
  const summary: InboundUnsubscribeSummary = { recipients: 0, accepted: 0, refused: 0, actions: 0 };
  let deferred = 0;
  try {
    for (const record of event.Records ?? []) if (await handleRecord(record, deps, summary)) deferred += 1;
  } finally {
    deps.metrics.flush();
  }
  if (deferred > 0)
    throw new UnsubscribeDeferredError(`${deferred} unsubscribe mail(s) over the rate limit: deferred`);
  return summary;
}

async function handleRecord(
  record: SESEventRecord,
  deps: InboundUnsubscribeDeps,
  summary: InboundUnsubscribeSummary,
): Promise<boolean> {
  const mail = record.ses?.mail;
  const receipt = record.ses?.receipt;
  if (!mail || !receipt) {
    deps.log.warn('not a SES receipt record: ignored', { eventSource: record.eventSource });
    return false;
  }
  const all = Array.isArray(receipt.recipients) ? receipt.recipients.map(String) : [];
  const recipients = all.slice(0, MAX_RECIPIENTS);
  if (all.length > recipients.length)
    deps.log.warn('too many recipients: the rest ignored', {
      recipients: all.length,
      kept: recipients.length,
    });
  const receivedAt = Date.parse(mail.timestamp);
  const outcome = await recordInboundUnsubscribes(
    {
      recipients,
      verdicts: {
        spam: receipt.spamVerdict?.status,
        virus: receipt.virusVerdict?.status,
        spf: receipt.spfVerdict?.status,
        dkim: receipt.dkimVerdict?.status,
        dmarc: receipt.dmarcVerdict?.status,
      },
      sender: typeof mail.source === 'string' ? mail.source : undefined,
      mailId: String(mail.messageId).slice(0, 200),
      receivedAt: Number.isFinite(receivedAt) ? receivedAt : deps.now(),
      processedAt: deps.now(),
    },
    deps.settings,
    deps.store,
    deps.rateCounter,
  );
  if (outcome.deferred)
    deps.metrics.count(METRICS.unsubscribeRateLimited, { [DIMENSIONS.scope]: outcome.deferred });
  if (outcome.actions.length > 0) await deps.actions.send(outcome.actions);
  for (const r of outcome.results) {
    deps.metrics.count(METRICS.inboundUnsubscribes, { [DIMENSIONS.verdict]: r.verdict });
    const fields = {
      recipient: r.recipient,
      verdict: r.verdict,
      state: r.state,
      subject: r.subject,
      reason: r.reason,
      sesMessageId: mail.messageId,
      spf: receipt.spfVerdict?.status,
      dkim: receipt.dkimVerdict?.status,
      dmarc: receipt.dmarcVerdict?.status,
    };
    if (r.verdict === 'accepted') deps.log.info('unsubscribe mail accepted', fields);
    else deps.log.warn('unsubscribe mail refused', fields);
  }
  summary.recipients += outcome.results.length;
  summary.accepted += outcome.results.filter((r) => r.verdict === 'accepted').length;
  summary.refused += outcome.results.filter((r) => r.verdict !== 'accepted').length;
  summary.actions += outcome.actions.length;
  return outcome.deferred !== undefined;
}

export type { InboundUnsubscribeDeps, InboundUnsubscribeSummary };
export { handleInboundUnsubscribeEvent, UnsubscribeDeferredError };
