/**
 * The RateCounter port (core/unsubscribe/unsubscribe-rate-limit.ts) on the bounce table: one item
 * per key and window, `pk rate#<key>`, `sk <windowStart:13>`, incremented atomically (UpdateItem
 * ADD), expiring through the table's TTL attribute `expiresAt` (s).
 */
import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '#core/errors.ts';
import type { RateCounter } from '#core/ports.ts';

function createDynamoDbRateCounter(client: DynamoDBDocumentClient, table: string): RateCounter {
  const incrementOne = async (key: string, windowStart: number, expiresAt: number): Promise<number> => {
    const out = await client.send(
      new UpdateCommand({
        TableName: table,
        Key: { pk: `rate#${key}`, sk: String(windowStart).padStart(13, '0') },
        UpdateExpression: 'ADD #n :one SET expiresAt = :ttl',
        ExpressionAttributeNames: { '#n': 'count' },
        ExpressionAttributeValues: { ':one': 1, ':ttl': Math.ceil(expiresAt / 1000) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(out.Attributes?.count ?? 0);
  };
  return {
    async increment(keys, windowStart, expiresAt) {
      try {
        return await Promise.all(keys.map((k) => incrementOne(k, windowStart, expiresAt)));
      } catch (error) {
        throw new StoreError('rate counter write failed', { cause: error });
      }
    },
  };
}

export { createDynamoDbRateCounter };
