/**
 * The provider registry: adding a provider is one file plus one line here.
 */
import type { ProviderSchemas } from '#core/config-schema.ts';
import type { ProviderDefinition } from './provider-definition.ts';

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own config type
const providerRegistry: Record<string, ProviderDefinition<any>> = {};

function providerSchemas(): ProviderSchemas {
  const out: ProviderSchemas = {};
  for (const [type, def] of Object.entries(providerRegistry)) {
    out[type] = { schema: def.configSchema, secretKeys: def.secretKeys };
  }
  return out;
}

export { providerRegistry, providerSchemas };
