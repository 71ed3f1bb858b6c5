/**
 * Fallback classification rules, as data: used only when PowerMTA's bounceCat is missing, `other`
 * or not a PowerMTA category. Ordered; the first match wins. Text rules come before status rules
 * as in PowerMTA's own default `<bounce-category-patterns>` (docs/powermta.md §6), so a 5.1.1 that
 * says "blocked" is not blamed on the recipient.
 */

interface ClassificationRule {
  id: string;
  category: string;
  /** Matched against `dsnStatus;dsnDiag` (case-insensitive). */
  pattern: RegExp;
}

const DEFAULT_RULES: readonly ClassificationRule[] = [
  {
    id: 'text-spam',
    category: 'spam-related',
    pattern: /\bspam|\bblock(ed|list)?\b|blacklist|\brbl\b|dnsbl|unsolicited|reputation/i,
  },
  { id: 'text-virus', category: 'virus-related', pattern: /virus|malware|infected/i },
  {
    id: 'text-quota',
    category: 'quota-issues',
    pattern: /quota|mailbox (is )?full|over ?quota|insufficient (system )?storage/i,
  },
  {
    id: 'text-bad-mailbox',
    category: 'bad-mailbox',
    pattern:
      /(no such|bad|invalid|unknown|illegal|non-?existent|unavailable) (user|mailbox|recipient|address)|(user|mailbox|recipient|address|account)( name)? (unknown|not found|does not exist|doesn'?t exist|is unavailable)|user ?unknown|recipnotfound|doesn'?t have an? \S+ account/i,
  },
  {
    id: 'text-inactive',
    category: 'inactive-mailbox',
    pattern:
      /(account|mailbox) (is )?(disabled|inactive|suspended|expired|deactivated)|no longer (active|available)/i,
  },
  {
    id: 'text-bad-domain',
    category: 'bad-domain',
    pattern:
      /(host|domain) (unknown|not found)|no such domain|nxdomain|domain (does not|doesn'?t) exist|no mx/i,
  },
  { id: 'text-relay', category: 'relaying-issues', pattern: /\brelay(ing)?\b/i },
  {
    id: 'text-policy',
    category: 'policy-related',
    pattern: /denied|prohibit|refused|not allowed|banned|policy/i,
  },
  { id: 'status-bad-mailbox', category: 'bad-mailbox', pattern: /^[45]\.1\.[1346]\b|^[45]\.2\.0\b/ },
  { id: 'status-bad-domain', category: 'bad-domain', pattern: /^[45]\.1\.2\b|^5\.1\.10\b/ },
  { id: 'status-inactive', category: 'inactive-mailbox', pattern: /^[45]\.2\.1\b/ },
  { id: 'status-invalid-sender', category: 'invalid-sender', pattern: /^[45]\.1\.[78]\b/ },
  { id: 'status-quota', category: 'quota-issues', pattern: /^[45]\.2\.[23]\b/ },
  {
    id: 'status-content',
    category: 'content-related',
    pattern: /^[45]\.3\.3\b|^[45]\.6\.\d+\b|^[45]\.7\.7\b/,
  },
  { id: 'status-configuration', category: 'bad-configuration', pattern: /^[45]\.3\.5\b/ },
  { id: 'status-no-answer', category: 'no-answer-from-host', pattern: /^[45]\.4\.1\b/ },
  { id: 'status-connection', category: 'bad-connection', pattern: /^[45]\.4\.2\b/ },
  { id: 'status-routing', category: 'routing-errors', pattern: /^[45]\.4\.[3-6]\b/ },
  { id: 'status-expired', category: 'message-expired', pattern: /^[45]\.4\.7\b/ },
  { id: 'status-policy', category: 'policy-related', pattern: /^[45]\.5\.3\b|^[45]\.7\.[0-2]\b/ },
  { id: 'status-protocol', category: 'protocol-errors', pattern: /^[45]\.5\.\d+\b/ },
];

export type { ClassificationRule };
export { DEFAULT_RULES };
