/**
 * The parts of a rule other than its reply pattern: enhanced status lists, recipient domains and
 * mailbox-provider scopes (docs/classification.md "Rule fields").
 */
import type { ProviderScope, RuleSpec } from './rule-schema.ts';

/** Triples class, subject, detail; -1 is a wildcard. */
function compileStatuses(status: RuleSpec['status']): Int32Array | undefined {
  if (status === undefined) return undefined;
  const list = typeof status === 'string' ? [status] : status;
  const out = new Int32Array(list.length * 3);
  list.forEach((s, i) => {
    s.split('.').forEach((part, j) => {
      out[i * 3 + j] = part === '*' ? -1 : Number(part);
    });
  });
  return out;
}

/** `code` as packed by enhanced-status.ts (0 = none: matches no status list). */
function statusMatches(statuses: Int32Array, code: number): boolean {
  if (code === 0) return false;
  const cls = Math.floor(code / 1_000_000);
  const subject = Math.floor(code / 1000) % 1000;
  const detail = code % 1000;
  for (let i = 0; i < statuses.length; i += 3) {
    const c = statuses[i]!;
    const s = statuses[i + 1]!;
    const d = statuses[i + 2]!;
    if ((c === -1 || c === cls) && (s === -1 || s === subject) && (d === -1 || d === detail)) return true;
  }
  return false;
}

function recipientDomain(recipient: string | undefined): string | undefined {
  if (!recipient) return undefined;
  const at = recipient.lastIndexOf('@');
  return at < 0 ? undefined : recipient.slice(at + 1).toLowerCase();
}

/** The domain is one of `domains` or a subdomain of one. */
function inDomains(domain: string | undefined, domains: readonly string[]): boolean {
  if (!domain) return false;
  for (const d of domains) {
    if (domain === d) return true;
    if (domain.endsWith(d) && domain.charCodeAt(domain.length - d.length - 1) === 46) return true;
  }
  return false;
}

/** The recipient is hosted by the provider, or its name shows in the remote MTA or the reply. */
function providerMatches(
  scope: ProviderScope,
  recipient: string | undefined,
  dsnMta: string | undefined,
  reply: string,
): boolean {
  if (inDomains(recipientDomain(recipient), scope.domains)) return true;
  if (scope.markers.length === 0) return false;
  const mta = dsnMta?.toLowerCase() ?? '';
  const text = reply.toLowerCase();
  return scope.markers.some((m) => mta.includes(m.toLowerCase()) || text.includes(m.toLowerCase()));
}

export { compileStatuses, inDomains, providerMatches, recipientDomain, statusMatches };
