/**
 * Where `suppressions import` writes: the local state (suppressions, audit, rejects; with --apply
 * the outbox runs the actions here and now) or, with --table, the deployed DynamoDB table (with
 * --apply the actions go on the stack's actions queue, so `act` runs each exactly once).
 */
import type { Action } from '#core/act/action.ts';
import type { Config } from '#core/config-schema.ts';
import { createRouter } from '#core/decide/routing.ts';
import type { SuppressionStore } from '#core/ports.ts';
import type { CliIo } from './cli-io.ts';
import { createLocalRuntime, DEFAULT_STATE_PATH } from './local-runtime.ts';
import { runOutboxActions } from './outbox-runner.ts';
import { openTableClients } from './table-clients.ts';

type RejectRow = { line: number; reason: string; raw: string };

interface ImportTarget {
  store: Pick<SuppressionStore, 'suppress' | 'appendAudit'>;
  /** Providers an imported address is routed to (no envelope sender: every provider). */
  providers: string[];
  recordRejects(rejects: readonly RejectRow[], source: string, at: number): Promise<void>;
  /** Runs (local) or queues (table) the actions; counts finished and failed ones (queued: none). */
  act(actions: readonly Action[]): Promise<{ done: number; failed: number; queued: number }>;
  close(): Promise<void>;
}

interface TargetOptions {
  state?: string | undefined;
  table?: string | undefined;
  region?: string | undefined;
  endpoint?: string | undefined;
  'actions-queue'?: string | undefined;
  /** The SQS endpoint when not AWS's (the sandbox's SQS emulator). */
  'sqs-endpoint'?: string | undefined;
}

function localTarget(config: Config, options: TargetOptions, io: CliIo): ImportTarget {
  const statePath = options.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  const runtime = createLocalRuntime(config, { statePath, dryRun: false });
  return {
    store: runtime.store,
    providers: runtime.router.forAddress(undefined),
    recordRejects: async (rejects, source, at) => runtime.store.recordRejects(rejects, source, at),
    async act(actions) {
      const counts = { done: 0, failed: 0, queued: 0 };
      runtime.outbox.enqueue(actions);
      await runOutboxActions(actions, { ...runtime, now: io.now }, (result) => {
        if (result.complete) counts.done += 1;
        else counts.failed += 1;
      });
      return counts;
    },
    close: () => runtime.close(),
  };
}

async function tableTarget(config: Config, options: TargetOptions, io: CliIo): Promise<ImportTarget> {
  const table = options.table!;
  const { DynamoDbSuppressionStore } = await import('#adapters/dynamodb/dynamodb-suppression-store.ts');
  const { createDynamoDbRejectLog } = await import('#adapters/dynamodb/dynamodb-reject-log.ts');
  const { createSqsActionSender } = await import('#adapters/sqs/sqs-action-queue.ts');
  const { documents, sqs, close } = await openTableClients(options);
  const queueUrl = options['actions-queue'];
  const sender = queueUrl ? createSqsActionSender(sqs, queueUrl) : undefined;
  const rejectLog = createDynamoDbRejectLog(documents, table);
  return {
    store: new DynamoDbSuppressionStore({ client: documents, table, now: io.now }),
    providers: createRouter(config.providers).forAddress(undefined),
    recordRejects: (rejects, source, at) => rejectLog.record(source, rejects, at),
    async act(actions) {
      // importCommand refuses --apply --table without --actions-queue.
      await sender!.send(actions);
      return { done: 0, failed: 0, queued: actions.length };
    },
    close: async () => close(),
  };
}

function openImportTarget(config: Config, options: TargetOptions, io: CliIo): Promise<ImportTarget> {
  return options.table ? tableTarget(config, options, io) : Promise.resolve(localTarget(config, options, io));
}

export type { ImportTarget, TargetOptions };
export { openImportTarget };
