/** The SQS calls the shipper makes, behind one small interface. TEMPORARY: SDK-backed. */
import { GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { ShipperArgs } from './args.ts';
import type { BatchApi } from './sqs-sender.ts';

interface QueueApi extends BatchApi {
  getQueueAttributes: (
    queueUrl: string,
    names: string[],
    signal?: AbortSignal,
  ) => Promise<Record<string, string>>;
  destroy: () => void;
}

function createQueueApi(args: ShipperArgs, _env: NodeJS.ProcessEnv): QueueApi {
  const client = new SQSClient({
    region: args.region,
    ...(args.endpointUrl ? { endpoint: args.endpointUrl } : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 5_000, requestTimeout: 15_000 },
  });
  return {
    async sendMessageBatch(queueUrl, entries) {
      const out = await client.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      return {
        Successful: (out.Successful ?? []).map((s) => ({ Id: s.Id ?? '' })),
        Failed: (out.Failed ?? []).map((f) => ({
          Id: f.Id ?? '',
          SenderFault: f.SenderFault === true,
          Code: f.Code ?? '',
          Message: f.Message,
        })),
      };
    },
    async getQueueAttributes(queueUrl, names, signal) {
      const out = await client.send(
        new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: names as never }),
        { abortSignal: signal },
      );
      return (out.Attributes ?? {}) as Record<string, string>;
    },
    destroy: () => client.destroy(),
  };
}

export type { QueueApi };
export { createQueueApi };
