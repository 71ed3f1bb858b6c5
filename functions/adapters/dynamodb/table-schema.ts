/**
 * The single table's key schema and TTL attribute: created this way by the CDK stack
 * (infra/bounce-handler-stack.ts) and, for the sandbox and tests, by dynamodb-table.ts.
 */

const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
} as const;

export { TABLE_SCHEMA };
