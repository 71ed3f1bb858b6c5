/**
 * Batched DynamoDB reads and writes with DynamoDB's own limits (100 keys per BatchGetItem, 25
 * puts per BatchWriteItem) and a bounded retry of unprocessed items, so one message with thousands
 * of records costs tens of requests, not thousands.
 */
import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '#core/act/map-limit.ts';
import { StoreError } from '#core/errors.ts';

type Item = Record<string, unknown>;
type Key = { pk: string; sk: string };

const GET_BATCH = 100;
const WRITE_BATCH = 25;
/** Unprocessed items are retried this many times (with backoff) before the call fails. */
const MAX_ATTEMPTS = 8;
/** Parallel batch requests per call: enough to hide latency, few enough to stay polite. */
const PARALLEL = 8;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const pause = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, Math.min(1000, 20 * 2 ** attempt)));

/** Items by `pk\nsk`; keys must be unique. Consistent reads: suppression decisions need them. */
async function batchGet(
  client: DynamoDBDocumentClient,
  table: string,
  keys: readonly Key[],
): Promise<Map<string, Item>> {
  const found = new Map<string, Item>();
  await mapLimit(chunks(keys, GET_BATCH), PARALLEL, async (chunk) => {
    let pending: Key[] = chunk;
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt >= MAX_ATTEMPTS)
        throw new StoreError(`BatchGetItem left ${pending.length} keys unprocessed`);
      if (attempt > 0) await pause(attempt);
      const out = await client.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
      );
      for (const item of out.Responses?.[table] ?? []) found.set(`${item.pk}\n${item.sk}`, item);
      pending = (out.UnprocessedKeys?.[table]?.Keys as Key[] | undefined) ?? [];
    }
  });
  return found;
}

/** Puts items (unconditional, so only for idempotent items: same key, same content). */
async function batchPut(
  client: DynamoDBDocumentClient,
  table: string,
  items: readonly Item[],
): Promise<void> {
  await mapLimit(chunks(items, WRITE_BATCH), PARALLEL, async (chunk) => {
    let pending = chunk.map((Item) => ({ PutRequest: { Item } }));
    for (let attempt = 0; pending.length > 0; attempt += 1) {
      if (attempt >= MAX_ATTEMPTS)
        throw new StoreError(`BatchWriteItem left ${pending.length} items unprocessed`);
      if (attempt > 0) await pause(attempt);
      const out = await client.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
      pending = (out.UnprocessedItems?.[table] as typeof pending | undefined) ?? [];
    }
  });
}

export type { Item, Key };
export { batchGet, batchPut, chunks };
