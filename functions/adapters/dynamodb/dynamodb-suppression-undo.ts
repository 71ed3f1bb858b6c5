/**
 * `pmta-bounce undo --table`: forgets one suppression of the deployed table with conditional
 * single-item writes (no transactions: the same code runs on dynalite), in an order a crash can
 * resume from:
 *   1. mark the suppression item `undoing` (with the undo's audit entry and action), only if it is
 *      still the selected suppression (same `at`), not being undone, and no act run holds it;
 *   2. append the audit entry (its key hashes its content: a repeat lands on itself);
 *   3. queue the undo action (a repeat has the same id: act's claim slot runs it once);
 *   4. delete the soft bounces, then the suppression item (only while it carries this undo).
 * After a crash past step 1 the item is still marked; the next `undo` that selects it resumes at
 * step 2 with the stored entry and action (DynamoDbSuppressionLedger.select reads them). From
 * step 1 on, act answers an unsubscribe still queued for the subject `forgotten`
 * (dynamodb-action-claims.ts). The operator's credentials need UpdateItem, GetItem, Query,
 * DeleteItem and BatchWriteItem on the table and sqs:SendMessage on the actions queue.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { Action } from '#core/act/action.ts';
import { mapLimit } from '#core/act/map-limit.ts';
import type { ActionSender, AuditEntry } from '#core/ports.ts';
import { UNDOING } from './dynamodb-action-claims.ts';
import type { DynamoDbSuppressionStore } from './dynamodb-suppression-store.ts';

/** An undo started on an item: what it records and what it queues (none: nothing to put back). */
interface PendingUndo {
  id: string;
  audit: AuditEntry;
  action?: Action | undefined;
}

/** undone; gone (undone or changed meanwhile); busy (an act run holds it: try again later). */
type ForgetResult = 'undone' | 'gone' | 'busy';

const ATTR = { action: 'undoAction', audit: 'undoAudit' } as const;

/** The undo stored on a suppression item by step 1, if any (`item` from a Get or a Scan). */
function pendingUndoOf(item: Record<string, unknown>): PendingUndo | undefined {
  const id = item[UNDOING];
  const audit = item[ATTR.audit];
  if (typeof id !== 'string' || typeof audit !== 'string') return undefined;
  const action = item[ATTR.action];
  return {
    id,
    audit: JSON.parse(audit) as AuditEntry,
    ...(typeof action === 'string' ? { action: JSON.parse(action) as Action } : {}),
  };
}

class DynamoDbSuppressionUndo {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #store: DynamoDbSuppressionStore;
  readonly #sender: ActionSender;
  readonly #now: () => number;

  constructor(o: {
    client: DynamoDBDocumentClient;
    table: string;
    store: DynamoDbSuppressionStore;
    sender: ActionSender;
    now: () => number;
  }) {
    this.#client = o.client;
    this.#table = o.table;
    this.#store = o.store;
    this.#sender = o.sender;
    this.#now = o.now;
  }

  /** `resume`: the item already carries this undo (step 1 done by an earlier run). */
  async forget(subject: string, at: number, undo: PendingUndo, resume: boolean): Promise<ForgetResult> {
    if (!resume) {
      const marked = await this.#mark(subject, at, undo);
      if (marked !== 'undone') return marked;
    }
    await this.#store.appendAudit([undo.audit]);
    if (undo.action) await this.#sender.send([undo.action]);
    await this.#deleteSoftBounces(subject);
    await this.#conditional(
      new DeleteCommand({
        TableName: this.#table,
        Key: { pk: `sub#${subject}`, sk: 'state' },
        ConditionExpression: '#u = :id',
        ExpressionAttributeNames: { '#u': UNDOING },
        ExpressionAttributeValues: { ':id': undo.id },
      }),
    );
    return 'undone';
  }

  async #mark(subject: string, at: number, undo: PendingUndo): Promise<ForgetResult> {
    const now = Math.floor(this.#now() / 1000);
    const ok = await this.#conditional(
      new UpdateCommand({
        TableName: this.#table,
        Key: { pk: `sub#${subject}`, sk: 'state' },
        UpdateExpression: `SET #u = :id, ${ATTR.audit} = :audit${undo.action ? `, ${ATTR.action} = :action` : ''}`,
        ConditionExpression:
          'attribute_exists(pk) AND #at = :at AND attribute_not_exists(#u) AND (attribute_not_exists(claimToken) OR claimExpiresAt < :now)',
        ExpressionAttributeNames: { '#u': UNDOING, '#at': 'at' },
        ExpressionAttributeValues: {
          ':id': undo.id,
          ':at': at,
          ':now': now,
          ':audit': JSON.stringify(undo.audit),
          ...(undo.action ? { ':action': JSON.stringify(undo.action) } : {}),
        },
      }),
    );
    if (ok) return 'undone';
    const item = (
      await this.#client.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: `sub#${subject}`, sk: 'state' },
          ConsistentRead: true,
        }),
      )
    ).Item;
    const held = item && item[UNDOING] === undefined && Number(item.claimExpiresAt) >= now;
    return held && Number(item.at) === at ? 'busy' : 'gone';
  }

  /** The soft-bounce history goes with the suppression, as locally: the next bounce counts from one. */
  async #deleteSoftBounces(subject: string): Promise<void> {
    const out = await this.#client.send(
      new QueryCommand({
        TableName: this.#table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': `soft#${subject}` },
        ProjectionExpression: 'pk, sk',
        ConsistentRead: true,
      }),
    );
    await mapLimit(out.Items ?? [], 8, (key) =>
      this.#client.send(new DeleteCommand({ TableName: this.#table, Key: { pk: key.pk, sk: key.sk } })),
    );
  }

  /** false when the write's condition failed. */
  async #conditional(command: UpdateCommand | DeleteCommand): Promise<boolean> {
    try {
      if (command instanceof UpdateCommand) await this.#client.send(command);
      else await this.#client.send(command);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }
}

export type { ForgetResult, PendingUndo };
export { DynamoDbSuppressionUndo, pendingUndoOf };
