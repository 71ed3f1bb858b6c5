/**
 * Where `pmta-bounce undo` reads and forgets suppressions: the local state (one transaction per
 * suppression, the put-backs run through the outbox here and now) or, with --table, the deployed
 * DynamoDB table (the put-backs are queued on the stack's actions queue as undo actions, which
 * `act` runs exactly once: adapters/dynamodb/dynamodb-suppression-undo.ts).
 */
import type { PendingUndo } from '#adapters/dynamodb/dynamodb-suppression-undo.ts';
import type { Action } from '#core/act/action.ts';
import type { ActionResult } from '#core/act/run-action.ts';
import type { SuppressionFilter, SuppressionRecord } from '#core/suppressions/suppression-ledger.ts';
import type { CliIo } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import type { TargetOptions } from './import-target.ts';
import { createLocalRuntime, DEFAULT_STATE_PATH } from './local-runtime.ts';
import { runOutboxActions } from './outbox-runner.ts';
import { openTableClients } from './table-clients.ts';

type UndoRecord = SuppressionRecord & { pendingUndo?: PendingUndo | undefined };

interface UndoTarget {
  /** `queued`: the put-backs go to the actions queue (act runs them), not through the outbox here. */
  queued: boolean;
  select(filter: SuppressionFilter): AsyncIterable<UndoRecord> | Iterable<UndoRecord>;
  /** undone; gone (undone or changed meanwhile); busy (an action is running for it: try later). */
  forget(record: UndoRecord, undo: PendingUndo): Promise<'undone' | 'gone' | 'busy'>;
  /** Local: runs the put-backs now; table: nothing left to do (forget queued them). */
  run(actions: readonly Action[], onResult: (result: ActionResult) => void): Promise<void>;
  close(): Promise<void>;
}

/** The options of `suppressions import`'s target (state or table and queue), and the config file. */
type UndoTargetOptions = TargetOptions & { config?: string | undefined };

function localTarget(options: UndoTargetOptions, io: CliIo): UndoTarget {
  const { config } = loadConfigFile(options.config, io.env);
  const statePath = options.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  const runtime = createLocalRuntime(config, { statePath, dryRun: false });
  const ledger = runtime.ledger!; // never a dry run here
  return {
    queued: false,
    select: (filter) => ledger.select(filter),
    forget: async (record, undo) =>
      ledger.forget(record.subject, undo.audit, undo.action) ? 'undone' : 'gone',
    run: (actions, onResult) => runOutboxActions(actions, { ...runtime, now: io.now }, onResult),
    close: () => runtime.close(),
  };
}

/** Standard AWS credentials; `--endpoint`/`--sqs-endpoint` for the sandbox and tests. */
async function tableTarget(options: UndoTargetOptions, io: CliIo): Promise<UndoTarget> {
  const table = options.table!;
  const { DynamoDbSuppressionStore } = await import('#adapters/dynamodb/dynamodb-suppression-store.ts');
  const { DynamoDbSuppressionLedger } = await import('#adapters/dynamodb/dynamodb-suppression-ledger.ts');
  const { DynamoDbSuppressionUndo } = await import('#adapters/dynamodb/dynamodb-suppression-undo.ts');
  const { createSqsActionSender } = await import('#adapters/sqs/sqs-action-queue.ts');
  const { documents, sqs, close } = await openTableClients(options);
  const store = new DynamoDbSuppressionStore({ client: documents, table, now: io.now });
  const ledger = new DynamoDbSuppressionLedger(documents, table, store);
  const queueUrl = options['actions-queue'] ?? '';
  const undo = new DynamoDbSuppressionUndo({
    client: documents,
    table,
    store,
    // undoCommand asks for --actions-queue before anything is forgotten (not needed by --dry-run).
    sender: createSqsActionSender(sqs, queueUrl),
    now: io.now,
  });
  return {
    queued: true,
    select: (filter) => ledger.select(filter),
    forget: (record, pending) =>
      undo.forget(record.subject, record.at, pending, record.pendingUndo?.id === pending.id),
    run: async () => {},
    close: async () => close(),
  };
}

function openUndoTarget(options: UndoTargetOptions, io: CliIo): Promise<UndoTarget> {
  return options.table ? tableTarget(options, io) : Promise.resolve(localTarget(options, io));
}

export type { UndoRecord, UndoTarget, UndoTargetOptions };
export { openUndoTarget };
