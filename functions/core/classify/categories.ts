/**
 * Bounce categories (PowerMTA's `bounceCat` values, docs/powermta.md) and whose fault a verdict
 * says it is (docs/classification.md).
 */

/** Categories that are the sender's or the network's fault: they never unsubscribe a recipient. */
const SENDER_SIDE_CATEGORIES = [
  'spam-related',
  'policy-related',
  'content-related',
  'virus-related',
  'invalid-sender',
  'bad-configuration',
  'relaying-issues',
  'protocol-errors',
] as const;

const KNOWN_CATEGORIES = [
  'bad-mailbox',
  'bad-domain',
  'inactive-mailbox',
  'routing-errors',
  'no-answer-from-host',
  'bad-connection',
  'message-expired',
  'quota-issues',
  'other',
  ...SENDER_SIDE_CATEGORIES,
] as const;

/**
 * recipient-permanent: the address cannot receive mail; recipient-temporary: it may again (soft);
 * sender-side: our sender, IP, content or configuration was refused; ignore: nothing to count.
 */
const FAULTS = ['recipient-permanent', 'recipient-temporary', 'sender-side', 'ignore'] as const;
type Fault = (typeof FAULTS)[number];

export type { Fault };
export { FAULTS, KNOWN_CATEGORIES, SENDER_SIDE_CATEGORIES };
