/**
 * Building blocks every list-manager adapter uses: the options its API client takes from the
 * provider's config, and the result of an action on one list.
 */
import type { ProviderBaseConfig } from '#core/config-schema.ts';
import type { ListOutcome, ProviderResult } from '#core/ports.ts';
import { type CallTally, createProviderCallPolicy, type ProviderCallPolicy } from './provider-call-policy.ts';
import type { ProviderDeps } from './provider-definition.ts';

interface ApiBasics {
  providerId: string;
  url: string;
  policy: ProviderCallPolicy;
  now: () => number;
}

/** Id, base URL, call policy (limits, retries, deadline) and clock for the provider's API client. */
function apiBasics(config: ProviderBaseConfig & { url: string }, deps: ProviderDeps): ApiBasics {
  return {
    providerId: config.id,
    url: config.url,
    policy: createProviderCallPolicy(config.id, config, deps),
    now: deps.now,
  };
}

/** The result of an action on one list, with the calls it took so far. */
function oneListResult(
  provider: string,
  listId: string,
  outcome: ListOutcome,
  tally: CallTally,
): ProviderResult {
  return { provider, lists: [{ listId, outcome }], calls: tally.calls };
}

export type { ApiBasics };
export { apiBasics, oneListResult };
