/**
 * CloudWatch metric names and dimensions (EMF), shared by the functions and the dashboard/alarms.
 */

const METRIC_NAMESPACE = 'PmtaBounce';

const METRICS = {
  /** Accounting records received, dimension RecordType (b, rb, f, d, ...). */
  recordsIn: 'RecordsIn',
  /** Bounces by category, dimension Category. */
  bounces: 'Bounces',
  /** Decisions, dimension Action (unsubscribe, already-suppressed, soft-bounce, ignore, reject). */
  decisions: 'Decisions',
  /** Malformed records kept as rejects. */
  rejects: 'Rejects',
  /** Provider calls, dimension Provider. */
  providerCalls: 'ProviderCalls',
  /** Provider outcomes, dimensions Provider and Outcome (done, already, not-found, failed). */
  providerOutcomes: 'ProviderOutcomes',
  /** Provider latency in ms, dimension Provider. */
  providerLatency: 'ProviderLatency',
  /** From the record's timeLogged to the provider's answer, ms. */
  endToEndLatency: 'EndToEndLatency',
  /** Actions that failed on the last receive before the actions DLQ, dimension Provider. */
  actionsFailed: 'ActionsFailed',
  /** Provider answers that retrying the same request cannot fix (3xx, 4xx but not-found), dimension Provider. */
  providerPermanentErrors: 'ProviderPermanentErrors',
  /**
   * Unsubscribe recipients received, dimension Verdict (accepted, spam, virus, spf, dkim, dmarc,
   * malformed, unknown-domain, unsigned, bad-signature, rate-limited).
   */
  inboundUnsubscribes: 'InboundUnsubscribes',
  /** Unsubscribe mails deferred by a rate limit, dimension Scope (sender-domain, global): alarmed. */
  unsubscribeRateLimited: 'UnsubscribeRateLimited',
  /** One-click HTTP requests (unsub-http), dimension Verdict (accepted, rate-limited, 400, 403, 404, 405). */
  oneClickRequests: 'OneClickRequests',
  /**
   * ms since the person asked (Action.requestedAt) of an unsubscribe still not done at every
   * provider after an act attempt: its Maximum is the age of the oldest owed one (alarm at 24 h).
   */
  pendingUnsubscribeAge: 'PendingUnsubscribeAge',
  /** Deliveries (`d` records), dimension SendingDomain (configured ones, else `other`). */
  deliveries: 'Deliveries',
  /** Complaints (`f` reports that are complaints), dimension SendingDomain. */
  complaints: 'Complaints',
  /** Delivery attempts with a verdict, dimensions MailboxProvider and Vmta (configured, else `other`). */
  attempts: 'Attempts',
  /** Sender-side blocks, dimensions MailboxProvider and Vmta. */
  blocks: 'Blocks',
} as const;

const DIMENSIONS = {
  recordType: 'RecordType',
  category: 'Category',
  action: 'Action',
  provider: 'Provider',
  outcome: 'Outcome',
  verdict: 'Verdict',
  scope: 'Scope',
  sendingDomain: 'SendingDomain',
  mailboxProvider: 'MailboxProvider',
  vmta: 'Vmta',
} as const;

export { DIMENSIONS, METRIC_NAMESPACE, METRICS };
