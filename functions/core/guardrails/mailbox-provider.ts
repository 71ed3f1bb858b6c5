/**
 * Which mailbox provider a recipient domain belongs to, for the deliverability figures
 * (docs/guardrails.md). A short built-in table; operators extend it in config
 * (`guardrails.mailboxProviders`). Unknown domains are `other`, which keeps metric dimensions bounded.
 */

const MailboxProvider = {
  gmail: 'gmail',
  yahoo: 'yahoo',
  microsoft: 'microsoft',
  apple: 'apple',
  gmx: 'gmx',
  other: 'other',
} as const;
type MailboxProvider = string;

/** Built-in domains per group (exact recipient domains, lower case). */
const BUILT_IN_DOMAINS: Record<string, readonly string[]> = {
  gmail: ['gmail.com', 'googlemail.com'],
  yahoo: [
    'yahoo.com',
    'yahoo.co.uk',
    'yahoo.fr',
    'yahoo.de',
    'yahoo.es',
    'yahoo.it',
    'yahoo.ca',
    'yahoo.com.br',
    'yahoo.co.jp',
    'yahoo.co.in',
    'ymail.com',
    'rocketmail.com',
    'aol.com',
    'aim.com',
    'verizon.net',
    'att.net',
    'sbcglobal.net',
    'bellsouth.net',
  ],
  microsoft: [
    'outlook.com',
    'hotmail.com',
    'hotmail.co.uk',
    'hotmail.fr',
    'hotmail.de',
    'hotmail.it',
    'hotmail.es',
    'live.com',
    'live.co.uk',
    'live.fr',
    'msn.com',
    'outlook.fr',
    'outlook.de',
    'passport.com',
  ],
  apple: ['icloud.com', 'me.com', 'mac.com'],
  gmx: ['gmx.de', 'gmx.net', 'gmx.com', 'gmx.at', 'gmx.ch', 'web.de'],
};

interface MailboxProviderTable {
  /** The group of a recipient domain (`other` when unknown). */
  of(domain: string | undefined): MailboxProvider;
  /** Every group name this table can answer, `other` last: the bounded dimension set. */
  readonly groups: readonly string[];
}

/** Builds the lookup; `extra` maps group name → domains and wins over the built-ins. */
function createMailboxProviderTable(
  extra: Readonly<Record<string, readonly string[]>> = {},
): MailboxProviderTable {
  const byDomain = new Map<string, string>();
  for (const table of [BUILT_IN_DOMAINS, extra])
    for (const [group, domains] of Object.entries(table))
      for (const domain of domains) byDomain.set(domain.toLowerCase(), group);
  const groups = [...new Set([...Object.keys(BUILT_IN_DOMAINS), ...Object.keys(extra)])].filter(
    (g) => g !== MailboxProvider.other,
  );
  groups.push(MailboxProvider.other);
  return {
    of: (domain) => (domain ? (byDomain.get(domain) ?? MailboxProvider.other) : MailboxProvider.other),
    groups,
  };
}

/** The domain part of an address, lower-cased; undefined without an `@`. */
function domainOf(address: string | undefined): string | undefined {
  if (!address) return undefined;
  const at = address.lastIndexOf('@');
  return at < 0 || at === address.length - 1 ? undefined : address.slice(at + 1).toLowerCase();
}

export type { MailboxProviderTable };
export { BUILT_IN_DOMAINS, createMailboxProviderTable, domainOf, MailboxProvider };
