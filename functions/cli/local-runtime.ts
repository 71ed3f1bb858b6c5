/**
 * Composition root of local mode: configuration → SQLite store, provider adapters, router and
 * classifier. Shared by the `pmta-bounce` commands. The provider map is built as in the cloud
 * (functions/adapters/providers/provider-map.ts).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { type Classifier, createClassifier } from '#core/classify/classify.ts';
import type { Config } from '#core/config-schema.ts';
import { createRouter, type Router } from '#core/decide/routing.ts';
import type { ActionOutbox, ListProvider } from '#core/ports.ts';
import type { ProviderLogEvent } from '#providers/provider-definition.ts';
import { createProviderMap } from '#providers/provider-map.ts';

const DEFAULT_STATE_PATH = '.pmta-bounce/state.db';

interface LocalRuntime {
  config: Config;
  store: SqliteSuppressionStore;
  /** The outbox on the same state file (core/act/action-outbox.ts). */
  outbox: ActionOutbox;
  providers: Map<string, ListProvider>;
  router: Router;
  classifier: Classifier;
  close(): Promise<void>;
}

interface LocalRuntimeOptions {
  statePath: string;
  /** Decide and report only: state is read but never written, no provider is called. */
  dryRun: boolean;
  log?: (event: ProviderLogEvent) => void;
}

function createLocalRuntime(config: Config, options: LocalRuntimeOptions): LocalRuntime {
  // A dry run writes to a throwaway file (not :memory:) so memory stays flat on huge inputs.
  const scratch = options.dryRun ? mkdtempSync(join(tmpdir(), 'pmta-bounce-dry-run-')) : undefined;
  const store = scratch
    ? new SqliteSuppressionStore({
        path: join(scratch, 'state.db'),
        audit: false,
        scratch: true,
        basePath: existsSync(options.statePath) ? options.statePath : undefined,
      })
    : new SqliteSuppressionStore({ path: options.statePath });
  const providers = options.dryRun ? new Map<string, ListProvider>() : createProviderMap(config, options.log);
  return {
    config,
    store,
    outbox: store.outbox,
    providers,
    router: createRouter(config.providers),
    classifier: createClassifier({ builtin: BUILTIN_RULES, operator: config.classification.rules }),
    close: async () => {
      await store.close();
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    },
  };
}

export type { LocalRuntime, LocalRuntimeOptions };
export { createLocalRuntime, DEFAULT_STATE_PATH };
