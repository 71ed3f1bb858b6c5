/**
 * The configured providers, built from the registry: one adapter per `providers[]` entry, keyed by
 * its id. Shared by both composition roots (functions/lambda/wiring.ts, functions/cli/local-runtime.ts).
 */
import type { Config } from '#core/config-schema.ts';
import type { ListProvider } from '#core/ports.ts';
import { providerRegistry } from './index.ts';
import { defaultProviderDeps, type ProviderLogEvent } from './provider-definition.ts';

function createProviderMap(
  config: Config,
  log?: (event: ProviderLogEvent) => void,
): Map<string, ListProvider> {
  const providers = new Map<string, ListProvider>();
  for (const entry of config.providers) {
    const definition = providerRegistry[entry.type];
    if (!definition) continue; // parseConfig already refused unknown types
    providers.set(entry.id, definition.create(entry, defaultProviderDeps(log)));
  }
  return providers;
}

export { createProviderMap };
