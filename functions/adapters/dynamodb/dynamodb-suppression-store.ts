/**
 * The SuppressionStore port on one DynamoDB table (pk, sk, TTL `expiresAt`: TABLE_SCHEMA).
 * Correctness rests on conditional single-item writes and idempotent puts only (no transactions),
 * so the same code runs on dynalite.
 *
 * Items:
 *   pk `sub#<subject>`   sk `state`              suppression: at, kind, category, reason, recordKey,
 *                                                 done (SS: providers finished), failed (SS),
 *                                                 expiresAt (s) while provisional (until confirm)
 *   pk `soft#<address>`  sk `r#<sha(recordKey)>`  one soft bounce: at, recordKey, expiresAt (window end)
 *   pk `soft#<address>`  sk `head`               the address has soft bounces (deliveries look here)
 *   pk `soft#<address>`  sk `reset`              at: the last delivery; earlier bounces do not count
 *   pk `audit#<subject>` sk `<at:13>#<sha(entry)>` one audit entry (a replayed entry lands on itself),
 *                                                 expiresAt (s) while provisional
 *
 * DynamoDB deletes expired items lazily (within days), so an expired provisional state item is
 * treated as absent here, as dynamodb-table.ts asks of every item relying on expiry.
 */

import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { mapLimit } from '#core/act/map-limit.ts';
import { countSoftBounces, laterReset, type SoftCounting } from '#core/decide/soft-bounce-window.ts';
import { StoreError } from '#core/errors.ts';
import type {
  AuditEntry,
  DeliveryRequest,
  SoftBounceRequest,
  SubjectStatus,
  SuppressionOutcome,
  SuppressionRequest,
  SuppressionStore,
} from '#core/ports.ts';
import { batchGet, batchPut, type Item } from './dynamodb-batch.ts';

const STATE_SK = 'state';
const QUERY_PARALLEL = 16;
/** A query page loop stops here: far above any real audit trail or soft-bounce history. */
const MAX_PAGES = 50;

const subjectPk = (subject: string): string => `sub#${subject}`;
const softPk = (address: string): string => `soft#${address}`;
const auditPk = (subject: string): string => `audit#${subject}`;
const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);
const padAt = (at: number): string => String(Math.max(0, Math.trunc(at))).padStart(13, '0');
/** ms (the port) → s (the table's TTL attribute). */
const ttlSeconds = (ms: number): number => Math.ceil(ms / 1000);

function setToList(value: unknown): string[] {
  if (value instanceof Set) return [...(value as Set<string>)].sort();
  return Array.isArray(value) ? (value as string[]) : [];
}

interface DynamoDbSuppressionStoreOptions {
  client: DynamoDBDocumentClient;
  table: string;
  /** Clock for expiry of provisional items; default Date.now. */
  now?: () => number;
}

class DynamoDbSuppressionStore implements SuppressionStore {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #now: () => number;
  /** Audit entries waiting for the next shared BatchWriteItem (appendAudit). */
  #auditBatch: { items: Map<string, Item>; written: Promise<void> } | undefined;

  constructor(options: DynamoDbSuppressionStoreOptions) {
    this.#client = options.client;
    this.#table = options.table;
    this.#now = options.now ?? (() => Date.now());
  }

  #expired(item: Item | undefined): boolean {
    return typeof item?.expiresAt === 'number' && item.expiresAt * 1000 <= this.#now();
  }

  async suppress(requests: readonly SuppressionRequest[]): Promise<SuppressionOutcome[]> {
    const firstBySubject = new Map<string, SuppressionRequest>();
    for (const r of requests) if (!firstBySubject.has(r.subject)) firstBySubject.set(r.subject, r);
    const keys = [...firstBySubject.keys()].map((s) => ({ pk: subjectPk(s), sk: STATE_SK }));
    const existing = await batchGet(this.#client, this.#table, keys);
    const done = new Map<string, Set<string>>();
    for (const item of existing.values())
      if (!this.#expired(item)) done.set(String(item.pk).slice(4), new Set(setToList(item.done)));

    const insertedNow = new Set<string>();
    const absent = [...firstBySubject.values()].filter((r) => !done.has(r.subject));
    await mapLimit(absent, QUERY_PARALLEL, async (r) => {
      if (await this.#insertState(r)) insertedNow.add(r.subject);
      else done.set(r.subject, await this.providersDoneSet(r.subject)); // lost a race: read the winner
    });

    const answered = new Set<string>();
    return requests.map((r): SuppressionOutcome => {
      if (insertedNow.has(r.subject)) {
        // A second record for a subject suppressed earlier in this same batch adds nothing.
        if (answered.has(r.subject)) return { subject: r.subject, state: 'already', pendingProviders: [] };
        answered.add(r.subject);
        const settled = new Set(r.providersDone ?? []);
        return {
          subject: r.subject,
          state: 'new',
          pendingProviders: r.providers.filter((p) => !settled.has(p)),
        };
      }
      const finished = done.get(r.subject) ?? new Set<string>();
      const pendingProviders = r.providers.filter((p) => !finished.has(p));
      return {
        subject: r.subject,
        state: pendingProviders.length > 0 ? 'pending' : 'already',
        pendingProviders,
      };
    });
  }

  /** true when this call created the state item; false when it already existed. */
  async #insertState(r: SuppressionRequest): Promise<boolean> {
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            pk: subjectPk(r.subject),
            sk: STATE_SK,
            at: r.at,
            kind: r.kind,
            ...(r.category ? { category: r.category } : {}),
            reason: r.reason,
            recordKey: r.recordKey,
            // Provenance for `suppressions export` and `undo` selections.
            ...(r.rule ? { rule: r.rule } : {}),
            ...(r.recordType ? { recordType: r.recordType } : {}),
            ...(r.jobId ? { jobId: r.jobId } : {}),
            // Settled from the start (an import that records only): a string set, never empty.
            ...(r.providersDone?.length ? { done: new Set(r.providersDone) } : {}),
            ...(r.expiresAt === undefined ? {} : { expiresAt: ttlSeconds(r.expiresAt) }),
          },
          // An expired provisional item is absent for us: it may be replaced.
          ConditionExpression: 'attribute_not_exists(pk) OR expiresAt <= :now',
          ExpressionAttributeValues: { ':now': Math.floor(this.#now() / 1000) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StoreError('suppression write failed', { cause: error });
    }
  }

  async recordSoftBounces(
    requests: readonly SoftBounceRequest[],
    counting: SoftCounting | number,
  ): Promise<number[]> {
    if (requests.length === 0) return [];
    const windowMs = typeof counting === 'number' ? counting : counting.windowMs;
    // The same record key twice (a replay inside one message) is one item; BatchWriteItem also
    // refuses duplicate keys in one request.
    const items = new Map<string, Item>();
    for (const r of requests) {
      const sk = `r#${digest(r.recordKey)}`;
      const expiresAt = Math.ceil((r.at + windowMs) / 1000) + 86_400;
      const id = `${r.address}\n${sk}`;
      if (items.has(id)) continue;
      items.set(id, { pk: softPk(r.address), sk, at: r.at, recordKey: r.recordKey, expiresAt });
      const head = items.get(`${r.address}\nhead`);
      if (!head || Number(head.expiresAt) < expiresAt) {
        items.set(`${r.address}\nhead`, { pk: softPk(r.address), sk: 'head', expiresAt });
      }
    }
    await batchPut(this.#client, this.#table, [...items.values()]);
    const addresses = [...new Set(requests.map((r) => r.address))];
    const history = new Map<string, { times: number[]; resetAt: number | undefined }>();
    await mapLimit(addresses, QUERY_PARALLEL, async (address) => {
      const times: number[] = [];
      let resetAt: number | undefined;
      for (const item of await this.#queryAll(softPk(address))) {
        if (item.sk === 'reset') resetAt = Number(item.at);
        else if (String(item.sk).startsWith('r#')) times.push(Number(item.at));
      }
      history.set(address, { times, resetAt });
    });
    return requests.map((r) => {
      const h = history.get(r.address);
      return countSoftBounces(h?.times ?? [], r.at, counting, laterReset(h?.resetAt, r.resetAt));
    });
  }

  async recordDeliveries(deliveries: readonly DeliveryRequest[]): Promise<void> {
    const latest = new Map<string, number>();
    for (const d of deliveries) latest.set(d.address, Math.max(d.at, latest.get(d.address) ?? d.at));
    if (latest.size === 0) return;
    // Only addresses with soft bounces (a `head` item) get a reset: deliveries are most records.
    const heads = await batchGet(
      this.#client,
      this.#table,
      [...latest.keys()].map((a) => ({ pk: softPk(a), sk: 'head' })),
    );
    await mapLimit([...heads.values()], QUERY_PARALLEL, async (head) => {
      const address = String(head.pk).slice(5);
      await this.#setReset(address, latest.get(address)!, Number(head.expiresAt));
    });
  }

  async #setReset(address: string, at: number, expiresAt: number): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: softPk(address), sk: 'reset' },
          UpdateExpression: 'SET #at = :at, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':at': at, ':exp': expiresAt },
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return; // a later delivery is kept
      throw new StoreError('delivery reset write failed', { cause: error });
    }
  }

  async markProvider(subject: string, provider: string, outcome: 'done' | 'failed'): Promise<void> {
    const update = outcome === 'done' ? 'ADD done :p DELETE failed :p' : 'ADD failed :p';
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { pk: subjectPk(subject), sk: STATE_SK },
          UpdateExpression: update,
          ExpressionAttributeValues: { ':p': new Set([provider]) },
        }),
      );
    } catch (error) {
      throw new StoreError('provider state write failed', { cause: error });
    }
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const items = new Map<string, Item>();
    for (const e of entries) {
      const body = JSON.stringify([
        e.type,
        e.action,
        e.reason,
        e.provider,
        e.outcome,
        e.recordKey,
        e.line,
        e.lists,
      ]);
      const sk = `${padAt(e.at)}#${digest(body)}`;
      const pk = auditPk(e.subject);
      const ttl = e.expiresAt === undefined ? {} : { expiresAt: ttlSeconds(e.expiresAt) };
      items.set(`${pk}\n${sk}`, { pk, sk, ...stripUndefined(e), ...ttl });
    }
    // Concurrent callers (the act function runs up to ten actions at once, one audit entry each)
    // share BatchWriteItem requests: entries queued in the same turn of the event loop go out
    // together, and every caller returns only once its own entries are written.
    this.#auditBatch ??= this.#newAuditBatch();
    const batch = this.#auditBatch;
    for (const [id, item] of items) batch.items.set(id, item);
    return batch.written;
  }

  #newAuditBatch(): { items: Map<string, Item>; written: Promise<void> } {
    const items = new Map<string, Item>();
    const written = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
      this.#auditBatch = undefined;
      // Same key, same content (the key hashes the entry): a duplicate is written once.
      return batchPut(this.#client, this.#table, [...items.values()]);
    });
    return { items, written };
  }

  async confirm(subject: string): Promise<void> {
    try {
      await this.#removeExpiry({ pk: subjectPk(subject), sk: STATE_SK });
      const audit = await this.#queryAll(auditPk(subject));
      await mapLimit(
        audit.filter((i) => i.expiresAt !== undefined),
        QUERY_PARALLEL,
        (i) => this.#removeExpiry({ pk: i.pk, sk: i.sk }),
      );
    } catch (error) {
      if (error instanceof StoreError) throw error;
      throw new StoreError('confirming a suppression failed', { cause: error });
    }
  }

  /** Makes an existing item permanent; an absent one stays absent (no empty item is created). */
  async #removeExpiry(key: Item): Promise<void> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: key,
          UpdateExpression: 'REMOVE expiresAt',
          ConditionExpression: 'attribute_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  /** Providers that finished this subject (the act function skips them on a redelivery). */
  async providersDone(subject: string): Promise<string[]> {
    return [...(await this.providersDoneSet(subject))];
  }

  private async providersDoneSet(subject: string): Promise<Set<string>> {
    const out = await this.#client.send(
      new GetCommand({
        TableName: this.#table,
        Key: { pk: subjectPk(subject), sk: STATE_SK },
        ConsistentRead: true,
      }),
    );
    return new Set(setToList(out.Item?.done));
  }

  async status(subject: string): Promise<SubjectStatus> {
    const [state, soft, audit] = await Promise.all([
      this.#client.send(
        new GetCommand({
          TableName: this.#table,
          Key: { pk: subjectPk(subject), sk: STATE_SK },
          ConsistentRead: true,
        }),
      ),
      this.#queryAll(softPk(subject)),
      this.#queryAll(auditPk(subject)),
    ]);
    const s = this.#expired(state.Item) ? undefined : state.Item;
    return {
      subject,
      suppressed: s
        ? {
            at: Number(s.at),
            kind: String(s.kind),
            category: s.category === undefined ? undefined : String(s.category),
            reason: String(s.reason),
            providersDone: setToList(s.done),
            ...(typeof s.expiresAt === 'number' ? { expiresAt: s.expiresAt * 1000 } : {}),
          }
        : undefined,
      softBounces: soft
        .filter((i) => String(i.sk).startsWith('r#'))
        .map((i) => ({ at: Number(i.at), recordKey: String(i.recordKey) }))
        .sort((a, b) => a.at - b.at),
      audit: audit
        .filter((i) => !this.#expired(i))
        .map((i) => {
          const { pk: _pk, sk: _sk, expiresAt, ...entry } = i;
          const ttl = typeof expiresAt === 'number' ? { expiresAt: expiresAt * 1000 } : {};
          return { ...entry, ...ttl } as unknown as AuditEntry;
        }),
    };
  }

  async #queryAll(pk: string): Promise<Item[]> {
    const items: Item[] = [];
    let start: Record<string, unknown> | undefined;
    for (let page = 0; page < MAX_PAGES; page += 1) {
      const out = await this.#client.send(
        new QueryCommand({
          TableName: this.#table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': pk },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...((out.Items as Item[] | undefined) ?? []));
      start = out.LastEvaluatedKey;
      if (!start) break;
    }
    return items;
  }

  async close(): Promise<void> {
    // The client belongs to the caller (module scope in Lambda): nothing to release here.
  }
}

function stripUndefined(value: object): Item {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}

export type { DynamoDbSuppressionStoreOptions };
export { DynamoDbSuppressionStore, digest, stripUndefined };
