/**
 * A real SQS-compatible server (fauxqs) for tests, on 127.0.0.1 and a free port. Never use the
 * fauxqs CLI or startFauxqs(): both listen on 0.0.0.0.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { buildApp } from 'fauxqs';
import type { Action } from '#core/act/action.ts';

interface SqsServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  createQueue: (name: string, attributes?: Record<string, string>) => Promise<string>;
  /** A client for this server with dummy credentials. */
  client: () => SQSClient;
  stop: () => Promise<void>;
}

const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

async function startSqsServer(options: { port?: number } = {}): Promise<SqsServer> {
  const app = buildApp({ logger: false });
  await app.listen({ port: options.port ?? 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (address === null || typeof address === 'string') throw new Error('fauxqs did not bind a TCP port');
  const endpoint = `http://127.0.0.1:${address.port}`;
  const clients: SQSClient[] = [];
  const client = (): SQSClient => {
    const c = new SQSClient({ region: 'us-east-1', endpoint, credentials: TEST_CREDENTIALS });
    clients.push(c);
    return c;
  };
  return {
    endpoint,
    port: address.port,
    client,
    async createQueue(name, attributes) {
      const out = await client().send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
      return out.QueueUrl as string;
    },
    async stop() {
      for (const c of clients) c.destroy();
      await app.close();
    },
  };
}

/** Receives and deletes every action on the queue (bounded: at most 20 rounds of 10). */
async function drainActions(sqs: SQSClient, queueUrl: string): Promise<Action[]> {
  const out: Action[] = [];
  for (let i = 0; i < 20; i += 1) {
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = got.Messages ?? [];
    if (messages.length === 0) break;
    out.push(...messages.map((m) => JSON.parse(m.Body ?? '{}') as Action));
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, n) => ({ Id: String(n), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return out;
}

/** One SQS event record as Lambda hands it to a handler (first receive), for the handler tests. */
function sqsEventRecord(
  body: string,
  id: string,
  attributes: Record<string, string> = {},
  queueName = 'actions',
): SQSRecord {
  return {
    messageId: id,
    receiptHandle: `rh-${id}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: String(Date.now()),
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: Object.fromEntries(
      Object.entries(attributes).map(([k, v]) => [
        k,
        { dataType: 'String', stringValue: v, stringListValues: [], binaryListValues: [] },
      ]),
    ),
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${queueName}`,
    awsRegion: 'us-east-1',
  };
}

export type { SqsServer };
export { drainActions, sqsEventRecord, startSqsServer, TEST_CREDENTIALS };
