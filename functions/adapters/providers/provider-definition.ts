/**
 * What one provider file exports: its type name, a strict config schema, the names of its
 * credential keys (for redaction and the literal-secret warning) and a factory.
 */
import type { z } from 'zod';
import type { ProviderBaseConfig } from '#core/config-schema.ts';
import type { ListProvider } from '#core/ports.ts';
import { createHttpFetch, type ProviderFetch } from './http-fetch.ts';

/** One structured line about a provider call; never carries credentials. */
interface ProviderLogEvent {
  provider: string;
  event: 'call' | 'retry' | 'error';
  method?: string;
  /** Path without query string (query strings can carry emails or keys). */
  path?: string;
  status?: number;
  durationMs?: number;
  attempt?: number;
  message?: string;
}

/** Everything a provider needs from the outside world, injectable for tests. */
interface ProviderDeps {
  /** In production the keep-alive client of http-fetch.ts; the global fetch fits too. */
  fetch: ProviderFetch;
  /** Milliseconds since epoch. */
  now(): number;
  sleep(ms: number): Promise<void>;
  /** In [0, 1): jitter for backoff. */
  random(): number;
  log(event: ProviderLogEvent): void;
  /**
   * When the current run must have handed its work back (ms since epoch): the act function's
   * Lambda deadline less a margin. Waits that would pass it are not started; the call fails as
   * transient and the action comes back later. Undefined: no deadline (local mode).
   */
  deadlineAt?(): number | undefined;
}

interface ProviderDefinition<C extends ProviderBaseConfig = ProviderBaseConfig> {
  type: string;
  configSchema: z.ZodType<C>;
  secretKeys: readonly string[];
  create(config: C, deps: ProviderDeps): ListProvider;
}

/** One client per process: its agents pool connections per host for every provider. */
let sharedFetch: ProviderFetch | undefined;

function defaultProviderDeps(
  log: (event: ProviderLogEvent) => void = () => {},
  deadlineAt?: () => number | undefined,
): ProviderDeps {
  sharedFetch ??= createHttpFetch();
  return {
    ...(deadlineAt ? { deadlineAt } : {}),
    fetch: sharedFetch,
    now: () => Date.now(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    log,
  };
}

export type { ProviderDefinition, ProviderDeps, ProviderLogEvent };
export { defaultProviderDeps };
