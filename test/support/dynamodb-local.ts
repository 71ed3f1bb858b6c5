/**
 * dynalite on 127.0.0.1 plus clients and a fresh table per call, for contract and integration
 * tests of the DynamoDB adapters.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createBounceTable } from '#adapters/dynamodb/dynamodb-table.ts';
import { type LocalServer, startDynalite } from '#sandbox/servers.ts';

interface DynamoDbLocal {
  server: LocalServer;
  client: DynamoDBClient;
  documents: DynamoDBDocumentClient;
  /** Creates a new empty table and returns its name. */
  newTable(): Promise<string>;
  stop(): Promise<void>;
}

const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

async function startDynamoDbLocal(): Promise<DynamoDbLocal> {
  const server = await startDynalite();
  const client = new DynamoDBClient({
    region: 'us-east-1',
    endpoint: server.endpoint,
    credentials: CREDENTIALS,
  });
  const documents = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  let n = 0;
  return {
    server,
    client,
    documents,
    async newTable() {
      n += 1;
      const name = `pmta-bounce-test-${n}`;
      await createBounceTable(client, name);
      return name;
    },
    async stop() {
      client.destroy();
      await server.stop();
    },
  };
}

export type { DynamoDbLocal };
export { startDynamoDbLocal };
