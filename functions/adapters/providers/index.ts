/**
 * The provider registry: adding a provider is one file plus one line here.
 */
import type { ProviderSchemas } from '#core/config-schema.ts';
import { interspireProvider } from './interspire/interspire.ts';
import { listmonkProvider } from './listmonk/listmonk.ts';
import { mailwizzProvider } from './mailwizz/mailwizz.ts';
import { mauticProvider } from './mautic/mautic.ts';
import type { ProviderDefinition } from './provider-definition.ts';
import { webhookProvider } from './webhook/webhook.ts';

// biome-ignore lint/suspicious/noExplicitAny: each definition has its own config type
const providerRegistry: Record<string, ProviderDefinition<any>> = {
  [mailwizzProvider.type]: mailwizzProvider,
  [interspireProvider.type]: interspireProvider,
  [webhookProvider.type]: webhookProvider,
  [listmonkProvider.type]: listmonkProvider,
  [mauticProvider.type]: mauticProvider,
};

function providerSchemas(): ProviderSchemas {
  const out: ProviderSchemas = {};
  for (const [type, def] of Object.entries(providerRegistry)) {
    out[type] = { schema: def.configSchema, secretKeys: def.secretKeys };
  }
  return out;
}

export { providerRegistry, providerSchemas };
