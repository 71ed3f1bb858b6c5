/**
 * TrafficStore on the single table (docs/guardrails.md). Each ingested message writes its own
 * aggregates as one item per UTC day — pk `traffic#YYYY-MM-DD`, sk `<source>#<part>` — with a plain
 * PutItem: a redelivered message writes the same item again, so every record counts exactly once
 * without conditional writes or counters. The report sums a day's items (one Query per day).
 */

import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { PendingSummary } from '#core/guardrails/deliverability-report.ts';
import { DAY_MS, utcDay } from '#core/guardrails/guardrails.ts';
import type { TrafficRow } from '#core/guardrails/traffic.ts';
import type { TrafficStore } from '#core/ports.ts';
import { batchPut } from './dynamodb-batch.ts';

/** Aggregates are kept 400 days: a year of trends plus a margin. */
const KEEP_SECONDS = 400 * 86_400;
/** Rows per item: well under DynamoDB's 400 KB item limit even with long dimension values. */
const ROWS_PER_ITEM = 500;
/** Without --since, the report reads this many days back. */
const DEFAULT_DAYS = 30;

type CompactRow = [
  number,
  string,
  string,
  string,
  string,
  number,
  number,
  number,
  number,
  Record<string, number>,
];

function compact(r: TrafficRow): CompactRow {
  return [
    r.hour,
    r.sendingDomain,
    r.mailboxProvider,
    r.vmta,
    r.job,
    r.deliveries,
    r.hardBounces,
    r.softBounces,
    r.complaints,
    r.blocks,
  ];
}

function expand(c: CompactRow): TrafficRow {
  const [
    hour,
    sendingDomain,
    mailboxProvider,
    vmta,
    job,
    deliveries,
    hardBounces,
    softBounces,
    complaints,
    blocks,
  ] = c;
  return {
    hour,
    sendingDomain,
    mailboxProvider,
    vmta,
    job,
    deliveries,
    hardBounces,
    softBounces,
    complaints,
    blocks,
  };
}

function groupByDay(rows: readonly TrafficRow[]): Map<string, TrafficRow[]> {
  const days = new Map<string, TrafficRow[]>();
  for (const row of rows) {
    const day = utcDay(row.hour);
    const list = days.get(day);
    if (list) list.push(row);
    else days.set(day, [row]);
  }
  return days;
}

function createDynamoDbTrafficStore(
  client: DynamoDBDocumentClient,
  table: string,
  now: () => number = Date.now,
): TrafficStore {
  async function queryDay(day: string): Promise<TrafficRow[]> {
    const rows: TrafficRow[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `traffic#${day}` },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) for (const c of item.rows as CompactRow[]) rows.push(expand(c));
      start = out.LastEvaluatedKey;
    } while (start);
    return rows;
  }

  return {
    async addTraffic(rows, batchId = `batch-${now()}`) {
      const items: Array<Record<string, unknown>> = [];
      for (const [day, list] of groupByDay(rows)) {
        for (let part = 0; part * ROWS_PER_ITEM < list.length; part++) {
          const slice = list.slice(part * ROWS_PER_ITEM, (part + 1) * ROWS_PER_ITEM);
          items.push({
            pk: `traffic#${day}`,
            sk: `${batchId}#${part}`,
            rows: slice.map(compact),
            expiresAt: Math.floor(now() / 1000) + KEEP_SECONDS,
          });
        }
      }
      if (items.length > 0) await batchPut(client, table, items);
    },
    async trafficRows(since, until) {
      const end = until ?? now() + DAY_MS;
      const first = Math.floor((since ?? end - DEFAULT_DAYS * DAY_MS) / DAY_MS) * DAY_MS;
      const rows: TrafficRow[] = [];
      for (let day = first; day < end; day += DAY_MS) rows.push(...(await queryDay(utcDay(day))));
      return rows.filter((r) => r.hour >= (since ?? first) && r.hour < end);
    },
    // The cloud keeps these elsewhere: unsubscribes are the act function's provider metrics, pending
    // actions are the actions queue (docs/guardrails.md "In AWS").
    async unsubscribesByProvider() {
      return {};
    },
    async pendingSummary(): Promise<PendingSummary> {
      return { actions: 0, olderThan24h: 0 };
    },
  };
}

export { createDynamoDbTrafficStore };
