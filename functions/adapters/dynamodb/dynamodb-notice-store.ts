/**
 * The NoticeStore port on the shared table (TABLE_SCHEMA):
 *   pk `notice#pending`  sk `<at:13>#<sha(id)>`  one pending notice: the notice fields, expiresAt
 * One partition, read oldest first: notices are few (complaints and final failures), and the
 * digest wants them in time order. A replayed notice lands on its own key (same at, same id).
 * Items expire after NOTICE_TTL_DAYS so a mail outage cannot grow the partition without bound.
 */
import { createHash } from 'node:crypto';
import { BatchWriteCommand, type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '#core/errors.ts';
import type { NoticeStore, PostmasterNotice, StoredNotice } from '#core/ports.ts';
import { batchPut, chunks } from './dynamodb-batch.ts';

const NOTICE_PK = 'notice#pending';
const NOTICE_TTL_DAYS = 30;
const WRITE_BATCH = 25;
const MAX_ATTEMPTS = 8;
/** Values longer than this are cut before storing (an item is at most 400 KB). */
const MAX_FIELD = 2000;

const padAt = (at: number): string => String(Math.max(0, Math.trunc(at))).padStart(13, '0');
const noticeSk = (n: PostmasterNotice): string =>
  `${padAt(n.at)}#${createHash('sha256').update(n.id).digest('hex').slice(0, 32)}`;

function clip(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.slice(0, MAX_FIELD);
}

function toItem(n: PostmasterNotice, now: number): Record<string, unknown> {
  const item: Record<string, unknown> = {
    pk: NOTICE_PK,
    sk: noticeSk(n),
    id: clip(n.id),
    kind: n.kind,
    at: n.at,
    subject: clip(n.subject),
    reason: clip(n.reason),
    expiresAt: Math.ceil(now / 1000) + NOTICE_TTL_DAYS * 86_400,
  };
  for (const key of ['provider', 'category', 'detail', 'jobId'] as const) {
    const v = clip(n[key]);
    if (v !== undefined) item[key] = v;
  }
  return item;
}

function fromItem(item: Record<string, unknown>): StoredNotice {
  const str = (k: string): string | undefined =>
    typeof item[k] === 'string' ? (item[k] as string) : undefined;
  return {
    key: String(item.sk),
    id: str('id') ?? String(item.sk),
    kind: item.kind === 'complaint' ? 'complaint' : 'action-failed',
    at: Number(item.at),
    subject: str('subject') ?? '',
    reason: str('reason') ?? '',
    provider: str('provider'),
    category: str('category'),
    detail: str('detail'),
    jobId: str('jobId'),
  };
}

interface DynamoDbNoticeStoreOptions {
  client: DynamoDBDocumentClient;
  table: string;
  /** ms since epoch, for expiry. */
  now?: () => number;
}

class DynamoDbNoticeStore implements NoticeStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #now: () => number;

  constructor(options: DynamoDbNoticeStoreOptions) {
    this.#client = options.client;
    this.#table = options.table;
    this.#now = options.now ?? Date.now;
  }

  async add(notices: readonly PostmasterNotice[]): Promise<void> {
    if (notices.length === 0) return;
    const now = this.#now();
    // One item per key within a batch: BatchWriteItem refuses duplicates.
    const items = new Map(notices.map((n) => [noticeSk(n), toItem(n, now)]));
    await batchPut(this.#client, this.#table, [...items.values()]);
  }

  async pending(limit: number): Promise<StoredNotice[]> {
    const out: StoredNotice[] = [];
    const nowSeconds = Math.floor(this.#now() / 1000);
    let start: Record<string, unknown> | undefined;
    // Bounded: a page per call is enough for any sane limit; the loop only follows pagination.
    for (let page = 0; page < 20 && out.length < limit; page += 1) {
      const result = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': NOTICE_PK },
          ScanIndexForward: true,
          Limit: limit - out.length,
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of result.Items ?? []) {
        // TTL deletion lags (and dynalite has none): expired items are skipped here too.
        if (typeof item.expiresAt === 'number' && item.expiresAt < nowSeconds) continue;
        out.push(fromItem(item));
      }
      start = result.LastEvaluatedKey;
      if (!start) break;
    }
    return out.slice(0, limit);
  }

  async remove(keys: readonly string[]): Promise<void> {
    for (const chunk of chunks([...new Set(keys)], WRITE_BATCH)) {
      let pending = chunk.map((sk) => ({ DeleteRequest: { Key: { pk: NOTICE_PK, sk } } }));
      for (let attempt = 0; pending.length > 0; attempt += 1) {
        if (attempt >= MAX_ATTEMPTS)
          throw new StoreError(`BatchWriteItem left ${pending.length} deletes unprocessed`);
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** attempt)));
        const out = await this.#client.send(
          new BatchWriteCommand({ RequestItems: { [this.#table]: pending } }),
        );
        pending = (out.UnprocessedItems?.[this.#table] as typeof pending | undefined) ?? [];
      }
    }
  }
}

/**
 * For producers (ingest, act): record notices for the next postmaster digest. Build them with
 * `complaintNotice` / `failedActionNotice` from `#core/notice-store.ts`.
 */
async function recordNotice(
  client: DynamoDBDocumentClient,
  table: string,
  notices: PostmasterNotice | readonly PostmasterNotice[],
): Promise<void> {
  const list = Array.isArray(notices) ? notices : [notices as PostmasterNotice];
  await new DynamoDbNoticeStore({ client, table }).add(list);
}

export type { DynamoDbNoticeStoreOptions };
export { DynamoDbNoticeStore, NOTICE_PK, recordNotice };
