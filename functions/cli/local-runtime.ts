/**
 * Composition root of local mode: configuration → SQLite store, provider adapters, router and
 * classifier. Shared by the `pmta-bounce` commands. The provider map is built as in the cloud
 * (functions/adapters/providers/provider-map.ts).
 */
import { existsSync } from 'node:fs';
import { DryRunSuppressionStore } from '#adapters/sqlite/dry-run-suppression-store.ts';
import { SqliteSuppressionLedger } from '#adapters/sqlite/sqlite-suppression-ledger.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { SqliteTrafficStore } from '#adapters/sqlite/sqlite-traffic-store.ts';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { type Classifier, createClassifier } from '#core/classify/classify.ts';
import type { Config } from '#core/config-schema.ts';
import { createRouter, type Router } from '#core/decide/routing.ts';
import type { ActionOutbox, ListProvider, SuppressionStore } from '#core/ports.ts';
import type { ProviderLogEvent } from '#providers/provider-definition.ts';
import { createProviderMap } from '#providers/provider-map.ts';

const DEFAULT_STATE_PATH = '.pmta-bounce/state.db';

/** The state local mode needs beyond the port: rejects, rate counters, transactions over batches. */
type LocalStateStore = SuppressionStore &
  Pick<SqliteSuppressionStore, 'recordRejects' | 'rateCounter' | 'openBatch' | 'commitBatch'>;

interface LocalRuntime {
  config: Config;
  store: LocalStateStore;
  /** The outbox on the same state file (core/act/action-outbox.ts). */
  outbox: ActionOutbox;
  providers: Map<string, ListProvider>;
  router: Router;
  classifier: Classifier;
  /** The suppressions as `suppressions export` and `undo` see them; absent in a dry run. */
  ledger: SqliteSuppressionLedger | undefined;
  /** Deliverability counts on the store's own connection (in its batches); absent in a dry run. */
  traffic: SqliteTrafficStore | undefined;
  close(): Promise<void>;
}

interface LocalRuntimeOptions {
  statePath: string;
  /** Decide and report only: state is read but never written, no provider is called. */
  dryRun: boolean;
  log?: (event: ProviderLogEvent) => void;
  /** `process`: decision entries past this many go to the audit thread (SqliteSuppressionStore). */
  auditThreadAfter?: number;
}

function createLocalRuntime(config: Config, options: LocalRuntimeOptions): LocalRuntime {
  // A dry run keeps its own decisions in memory (bounded) and only reads the real state.
  const store = options.dryRun
    ? new DryRunSuppressionStore({ basePath: existsSync(options.statePath) ? options.statePath : undefined })
    : new SqliteSuppressionStore({ path: options.statePath, auditThreadAfter: options.auditThreadAfter });
  const providers = options.dryRun ? new Map<string, ListProvider>() : createProviderMap(config, options.log);
  return {
    config,
    store,
    outbox: store.outbox,
    providers,
    router: createRouter(config.providers),
    classifier: createClassifier({ builtin: BUILTIN_RULES, operator: config.classification.rules }),
    ledger:
      store instanceof SqliteSuppressionStore
        ? new SqliteSuppressionLedger(store.db, () => Date.now())
        : undefined,
    traffic: store instanceof SqliteSuppressionStore ? new SqliteTrafficStore(store.db) : undefined,
    close: () => store.close(),
  };
}

export type { LocalRuntime, LocalRuntimeOptions, LocalStateStore };
export { createLocalRuntime, DEFAULT_STATE_PATH };
