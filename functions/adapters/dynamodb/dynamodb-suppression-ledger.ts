/**
 * The suppressions of the deployed table as `suppressions export --table` sees them
 * (core/suppressions/suppression-ledger.ts): a paginated Scan of the `sub#…/state` items (the
 * table has no index across subjects; the operator's credentials need dynamodb:Scan, which no
 * function role has), each with its audit trail read through the store's `status`. Scan order,
 * not time order: sorting would hold the whole table in memory. A suppression an interrupted
 * `undo --table` had started to forget comes with that undo (dynamodb-suppression-undo.ts).
 */
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import {
  changedLists,
  matchesFilter,
  type SuppressionFilter,
  type SuppressionRecord,
} from '#core/suppressions/suppression-ledger.ts';
import type { DynamoDbSuppressionStore } from './dynamodb-suppression-store.ts';
import { type PendingUndo, pendingUndoOf } from './dynamodb-suppression-undo.ts';

type TableSuppressionRecord = SuppressionRecord & { pendingUndo?: PendingUndo | undefined };

class DynamoDbSuppressionLedger {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #store: DynamoDbSuppressionStore;

  constructor(client: DynamoDBDocumentClient, table: string, store: DynamoDbSuppressionStore) {
    this.#client = client;
    this.#table = table;
    this.#store = store;
  }

  async *select(filter: SuppressionFilter = {}): AsyncGenerator<TableSuppressionRecord> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#client.send(
        new ScanCommand({
          TableName: this.#table,
          FilterExpression: 'begins_with(pk, :sub) AND sk = :state',
          ExpressionAttributeValues: { ':sub': 'sub#', ':state': 'state' },
          // `rule` is a DynamoDB reserved word.
          ProjectionExpression: 'pk, #rule, recordType, jobId, undoing, undoAudit, undoAction',
          ExpressionAttributeNames: { '#rule': 'rule' },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) {
        const record = await this.#record(String(item.pk).slice(4), item);
        if (record && matchesFilter(record, filter)) yield record;
      }
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** The live suppression with its trail (status() drops expired provisional items). */
  async #record(subject: string, item: Record<string, unknown>): Promise<TableSuppressionRecord | undefined> {
    const status = await this.#store.status(subject);
    const s = status.suppressed;
    if (!s) return undefined;
    const text = (key: string) => (typeof item[key] === 'string' ? { [key]: item[key] as string } : {});
    return {
      subject,
      at: s.at,
      kind: s.kind,
      ...(s.category ? { category: s.category } : {}),
      reason: s.reason,
      ...text('rule'),
      ...text('recordType'),
      ...text('jobId'),
      providersDone: s.providersDone,
      changed: changedLists(status.audit),
      pendingUndo: pendingUndoOf(item),
    };
  }
}

export type { TableSuppressionRecord };
export { DynamoDbSuppressionLedger };
