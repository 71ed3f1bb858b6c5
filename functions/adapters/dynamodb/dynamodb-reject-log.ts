/**
 * Malformed records and undecodable messages, kept where an operator can list them by day:
 * pk `rejects#YYYY-MM-DD` (receive day, UTC), sk `<source>#<line>` so a replayed message lands on
 * the same items. raw is cut to 4 KiB; items expire after 90 days.
 *
 * List a day: aws dynamodb query --table-name T --key-condition-expression 'pk = :d'
 *   --expression-attribute-values '{":d":{"S":"rejects#2026-11-20"}}'
 */
import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { RejectLog } from '#core/ports.ts';
import { batchPut } from './dynamodb-batch.ts';

const RAW_LIMIT = 4096;
const KEEP_SECONDS = 90 * 86_400;

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

function createDynamoDbRejectLog(client: DynamoDBDocumentClient, table: string): RejectLog {
  return {
    async record(source, rejects, nowMs) {
      if (rejects.length === 0) return;
      const pk = `rejects#${dayOf(nowMs)}`;
      const items = new Map<string, Record<string, unknown>>();
      for (const r of rejects) {
        const sk = `${source}#${String(r.line).padStart(7, '0')}`;
        items.set(sk, {
          pk,
          sk,
          source,
          line: r.line,
          reason: r.reason,
          raw: r.raw.slice(0, RAW_LIMIT),
          at: nowMs,
          expiresAt: Math.floor(nowMs / 1000) + KEEP_SECONDS,
        });
      }
      await batchPut(client, table, [...items.values()]);
    },
    async list(day) {
      const out = await client.send(
        new QueryCommand({
          TableName: table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `rejects#${day}` },
          Limit: 1000,
        }),
      );
      return (out.Items ?? []).map((i) => ({
        source: String(i.source),
        line: Number(i.line),
        reason: String(i.reason),
        raw: String(i.raw),
        at: Number(i.at),
      }));
    },
  };
}

export { createDynamoDbRejectLog, dayOf };
