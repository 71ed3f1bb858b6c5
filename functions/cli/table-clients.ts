/**
 * The AWS clients of the `--table` commands (suppressions import, undo, status): DynamoDB on the
 * deployed table and SQS for the actions queue, with the standard credential chain; `--endpoint`
 * and `--sqs-endpoint` point them at the sandbox's emulators (or tests'). Loaded on demand: local
 * commands never pull in the AWS SDK.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** The flags that point a command at the deployed table instead of the local state (parseArgs). */
const TABLE_OPTIONS = {
  table: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
} as const;

/** ...and, for a command that queues provider actions, at the stack's actions queue. */
const QUEUE_OPTIONS = {
  'actions-queue': { type: 'string' },
  'sqs-endpoint': { type: 'string' },
} as const;

interface TableClientOptions {
  region?: string | undefined;
  endpoint?: string | undefined;
  'sqs-endpoint'?: string | undefined;
}

interface TableClients {
  documents: DynamoDBDocumentClient;
  sqs: SQSClient;
  close(): void;
}

async function openTableClients(options: TableClientOptions): Promise<TableClients> {
  const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
  const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
  const { SQSClient } = await import('@aws-sdk/client-sqs');
  const region = options.region ? { region: options.region } : {};
  const client = new DynamoDBClient({
    ...region,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
  });
  const sqs = new SQSClient({
    ...region,
    ...(options['sqs-endpoint'] ? { endpoint: options['sqs-endpoint'] } : {}),
  });
  return {
    documents: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    sqs,
    close() {
      client.destroy();
      sqs.destroy();
    },
  };
}

export type { TableClientOptions, TableClients };
export { openTableClients, QUEUE_OPTIONS, TABLE_OPTIONS };
