/**
 * The act function's providers, built one configuration entry at a time from the configuration
 * document and the secret's values. An entry that cannot be built (its `${NAME}` is not in the
 * secret yet, or its value is invalid) becomes a provider that fails every call as retryable,
 * naming the key: only that provider's actions wait (logged, counted, and finally parked in the
 * actions DLQ), while the other providers work. Adding a provider and deploying before the secret
 * holds its key therefore stops nothing (docs/deploy-aws.md, "Adding a provider").
 *
 * Each act instance takes its share of a provider's `concurrency` and `ratePerSecond`: the stack
 * runs ENV.ACT_INSTANCES of them at once, and together they keep the configured limits.
 */
import { type Config, parseConfig } from '#core/config-schema.ts';
import { BounceHandlerError, ConfigError } from '#core/errors.ts';
import type { ListProvider } from '#core/ports.ts';
import { providerRegistry, providerSchemas } from '#providers/index.ts';
import type { ProviderDefinition, ProviderDeps } from '#providers/provider-definition.ts';

type Vars = Readonly<Record<string, string | undefined>>;
type ProviderEntry = Config['providers'][number];

const VAR_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** A provider that cannot be used until the configuration or the secret is fixed: retry later. */
class ProviderUnavailableError extends BounceHandlerError {
  constructor(message: string) {
    super(message, true);
    this.name = 'ProviderUnavailableError';
  }
}

class UnavailableProvider implements ListProvider {
  constructor(
    readonly id: string,
    readonly type: string,
    readonly reason: string,
  ) {}

  unsubscribeEverywhere(): Promise<never> {
    return Promise.reject(new ProviderUnavailableError(this.reason));
  }

  unsubscribeFromList(): Promise<never> {
    return Promise.reject(new ProviderUnavailableError(this.reason));
  }

  async checkCredentials() {
    return { ok: false, detail: this.reason };
  }
}

/** The share of one act instance (at least one call in flight, whatever the division gives). */
function perInstanceLimits(provider: ProviderEntry, instances: number): ProviderEntry {
  const n = Math.max(1, Math.floor(instances));
  return {
    ...provider,
    concurrency: Math.max(1, Math.floor(provider.concurrency / n)),
    ...(provider.ratePerSecond === undefined ? {} : { ratePerSecond: provider.ratePerSecond / n }),
  };
}

/** Why entry `index` cannot be built with `vars`: the names the secret lacks, or the parse error. */
function unavailableReason(entry: unknown, index: number, vars: Vars, error: unknown): string {
  const names = [...JSON.stringify(entry ?? null).matchAll(VAR_PATTERN)].map((m) => m[1]!);
  const missing = [...new Set(names.filter((n) => vars[n] === undefined))].sort();
  const where = `providers[${index}]`;
  if (missing.length > 0) {
    return `${where}: the provider secret has no ${missing.join(', ')}: add it (docs/deploy-aws.md step 4); this provider's actions wait until then`;
  }
  return error instanceof ConfigError ? error.message : `${where}: invalid`;
}

interface ActProvidersOptions {
  /** The raw `providers` list of the configuration document (placeholders intact). */
  entries: readonly unknown[];
  vars: Vars;
  deps: ProviderDeps;
  /** Act instances running at once (ENV.ACT_INSTANCES; 1 when unset). */
  instances?: number;
  // biome-ignore lint/suspicious/noExplicitAny: each definition has its own config type
  registry?: Record<string, ProviderDefinition<any>>;
}

/** One ListProvider per entry, by id; `unavailable` lists the ones that fail until fixed. */
function buildActProviders(options: ActProvidersOptions): {
  providers: Map<string, ListProvider>;
  unavailable: UnavailableProvider[];
} {
  const registry = options.registry ?? providerRegistry;
  const providers = new Map<string, ListProvider>();
  const unavailable: UnavailableProvider[] = [];
  options.entries.forEach((entry, index) => {
    const { id = `#${index}`, type = '?' } = (entry ?? {}) as { id?: string; type?: string };
    try {
      const [parsed] = parseConfig({ providers: [entry] }, options.vars, providerSchemas()).providers;
      const definition = parsed ? registry[parsed.type] : undefined;
      if (!parsed || !definition) return;
      providers.set(
        parsed.id,
        definition.create(perInstanceLimits(parsed, options.instances ?? 1), options.deps),
      );
    } catch (error) {
      // The paths ConfigError names are relative to a one-entry list: name the real index.
      const reason = unavailableReason(entry, index, options.vars, error).replace(
        'providers[0]',
        `providers[${index}]`,
      );
      const standIn = new UnavailableProvider(
        String(id),
        String(type),
        `provider ${id} unavailable: ${reason}`,
      );
      providers.set(standIn.id, standIn);
      unavailable.push(standIn);
    }
  });
  return { providers, unavailable };
}

export type { ActProvidersOptions };
export { buildActProviders, ProviderUnavailableError, perInstanceLimits, UnavailableProvider };
