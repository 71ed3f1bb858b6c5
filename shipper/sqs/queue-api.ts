/**
 * The SQS calls the shipper makes, on its own small SigV4 JSON client (no AWS SDK: it cost ~16 MB
 * of RSS and most of a core at full rate) and the standard credential chain.
 */
import type { ShipperArgs } from '../args.ts';
import { createCredentialChain } from '../credentials/aws-credentials.ts';
import { SqsClient } from './sqs-client.ts';

/** The calls the shipper makes (a test or benchmark may stand in its own). */
type QueueApi = Pick<SqsClient, 'sendMessageBatch' | 'getQueueAttributes' | 'destroy'>;

function createQueueApi(args: ShipperArgs, env: NodeJS.ProcessEnv): QueueApi {
  return new SqsClient({
    region: args.region,
    // Like the SDK's default (queue URL as endpoint): the queue URL names the service host.
    endpoint: args.endpointUrl ?? new URL(args.queueUrl).origin,
    credentials: createCredentialChain(env),
    connectTimeoutMs: 5_000,
    requestTimeoutMs: 15_000,
  });
}

export type { QueueApi };
export { createQueueApi };
