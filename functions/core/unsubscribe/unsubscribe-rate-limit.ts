/**
 * Rate limits of accepted unsubscribe mail (docs/security.md, "SES mail"): fixed windows, one
 * counter per envelope-sender domain and one global, shared by every invocation through the
 * RateCounter port (DynamoDB in the cloud, SQLite locally). A mail over a limit is deferred, not
 * dropped: the SES invocation fails and is retried (then parked in its dead-letter queue), the pipe
 * exits 75 for the MTA to retry. Pure.
 */
import type { RateCounter } from '../ports.ts';

interface RateLimitSettings {
  windowMs: number;
  perSenderDomain: number;
  global: number;
}

type RateLimitScope = 'sender-domain' | 'global';

type RateLimitCheck = { ok: true } | { ok: false; scope: RateLimitScope; reason: string };

const NO_DOMAIN = '(none)';
const MAX_DOMAIN = 253;

/** The domain of an envelope sender, lower-cased and bounded; `(none)` for `<>` or garbage. */
function senderDomain(sender: string | undefined): string {
  const value = (sender ?? '').slice(0, 998).trim().replace(/^<|>$/g, '');
  const at = value.lastIndexOf('@');
  const domain = at < 0 ? '' : value.slice(at + 1).toLowerCase();
  if (domain === '' || domain.length > MAX_DOMAIN || /[^a-z0-9.-]/.test(domain)) return NO_DOMAIN;
  return domain;
}

async function checkRateLimit(
  counter: RateCounter,
  limits: RateLimitSettings,
  sender: string | undefined,
  at: number,
): Promise<RateLimitCheck> {
  const windowStart = at - (at % limits.windowMs);
  const domain = senderDomain(sender);
  const [perDomain = 0, global = 0] = await counter.increment(
    [`sender:${domain}`, 'global'],
    windowStart,
    windowStart + 2 * limits.windowMs,
  );
  const minutes = Math.round(limits.windowMs / 60_000);
  if (perDomain > limits.perSenderDomain)
    return {
      ok: false,
      scope: 'sender-domain',
      reason: `more than ${limits.perSenderDomain} unsubscribe mails from ${domain} in ${minutes} minutes: deferred`,
    };
  if (global > limits.global)
    return {
      ok: false,
      scope: 'global',
      reason: `more than ${limits.global} unsubscribe mails in ${minutes} minutes: deferred`,
    };
  return { ok: true };
}

export type { RateLimitCheck, RateLimitScope, RateLimitSettings };
export { checkRateLimit, senderDomain };
