/**
 * Rate limits of the one-click endpoint (docs/security.md, "One-click HTTP"): fixed windows, one
 * counter per client (the caller's address, or the proxy's X-Forwarded-For when configured) and one
 * global, through the RateCounter port. Over a limit: 429 with Retry-After = the rest of the window.
 * Pure.
 */
import type { RateCounter } from '../ports.ts';

interface OneClickRateLimits {
  windowMs: number;
  perClient: number;
  global: number;
}

type OneClickRateCheck = { ok: true } | { ok: false; scope: 'client' | 'global'; retryAfterSeconds: number };

/** A client key that cannot grow memory or forge log lines: printable, bounded. */
function clientKey(client: string): string {
  const clean = client.slice(0, 64).replace(/[^0-9A-Za-z.:_-]/g, '?');
  return clean === '' ? '(none)' : clean;
}

async function checkOneClickRate(
  counter: RateCounter,
  limits: OneClickRateLimits,
  client: string,
  at: number,
): Promise<OneClickRateCheck> {
  const windowStart = at - (at % limits.windowMs);
  const [perClient = 0, global = 0] = await counter.increment(
    [`one-click:${clientKey(client)}`, 'one-click:global'],
    windowStart,
    windowStart + 2 * limits.windowMs,
  );
  const retryAfterSeconds = Math.max(1, Math.ceil((windowStart + limits.windowMs - at) / 1000));
  if (perClient > limits.perClient) return { ok: false, scope: 'client', retryAfterSeconds };
  if (global > limits.global) return { ok: false, scope: 'global', retryAfterSeconds };
  return { ok: true };
}

export type { OneClickRateCheck, OneClickRateLimits };
export { checkOneClickRate, clientKey };
