/**
 * The unsub function's logic: a SES receipt event (Lambda action, one mail per record) → for each
 * `receipt.recipients` address the core check → suppression state → actions queue. Logs carry
 * recipient addresses, verdicts and reasons only: never the body (not in the event anyway), never
 * the headers.
 *
 * A store or queue failure throws: SES retries an async Lambda invocation, and a replay is
 * harmless (the state says `pending` and the action is sent again, the act side is idempotent).
 */
import type { SESEvent, SESEventRecord } from 'aws-lambda';
import type { ActionSender, Clock, Log, MetricSink, SuppressionStore } from '#core/ports.ts';
import type { InboundUnsubscribeSettings } from '#core/unsubscribe/inbound-unsubscribe.ts';
import { recordInboundUnsubscribes } from '#core/unsubscribe/record-inbound-unsubscribes.ts';
import { DIMENSIONS, METRICS } from '../metric-names.ts';

interface InboundUnsubscribeDeps {
  settings: InboundUnsubscribeSettings;
  store: SuppressionStore;
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

/** SES sends at most a few recipients per mail; more is not a real unsubscribe. */
const MAX_RECIPIENTS = 50;

async function handleInboundUnsubscribeEvent(
  event: SESEvent,
  deps: InboundUnsubscribeDeps,
): Promise<InboundUnsubscribeSummary> {
  const summary: InboundUnsubscribeSummary = { recipients: 0, accepted: 0, refused: 0, actions: 0 };
  try {
    for (const record of event.Records ?? []) await handleRecord(record, deps, summary);
  } finally {
    deps.metrics.flush();
  }
  return summary;
}

async function handleRecord(
  record: SESEventRecord,
  deps: InboundUnsubscribeDeps,
  summary: InboundUnsubscribeSummary,
): Promise<void> {
  const mail = record.ses?.mail;
  const receipt = record.ses?.receipt;
  if (!mail || !receipt) {
    deps.log.warn('not a SES receipt record: ignored', { eventSource: record.eventSource });
    return;
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
      verdicts: { spam: receipt.spamVerdict?.status, virus: receipt.virusVerdict?.status },
      mailId: String(mail.messageId).slice(0, 200),
      receivedAt: Number.isFinite(receivedAt) ? receivedAt : deps.now(),
    },
    deps.settings,
    deps.store,
  );
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
}

export type { InboundUnsubscribeDeps, InboundUnsubscribeSummary };
export { handleInboundUnsubscribeEvent };
