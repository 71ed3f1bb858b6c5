/**
 * The actions queue seen from the functions: send Actions in batches of ten (SendMessageBatch,
 * failed entries retried a bounded number of times), and push a message's next delivery back
 * (ChangeMessageVisibility) for backoff before reporting it failed.
 */
import {
  ChangeMessageVisibilityCommand,
  GetQueueUrlCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { mapLimit } from '#core/act/map-limit.ts';
import { BounceHandlerError } from '#core/errors.ts';
import type { ActionSender, VisibilityControl } from '#core/ports.ts';
import { chunks } from '../dynamodb/dynamodb-batch.ts';

const SQS_BATCH = 10;
const MAX_ATTEMPTS = 5;
const PARALLEL = 8;

class QueueSendError extends BounceHandlerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, true, options);
    this.name = 'QueueSendError';
  }
}

function createSqsActionSender(client: SQSClient, queueUrl: string): ActionSender {
  return {
    async send(actions) {
      await mapLimit(chunks(actions, SQS_BATCH), PARALLEL, async (chunk) => {
        let entries: SendMessageBatchRequestEntry[] = chunk.map((a, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify(a),
        }));
        for (let attempt = 0; entries.length > 0; attempt += 1) {
          if (attempt >= MAX_ATTEMPTS)
            throw new QueueSendError(`${entries.length} actions not accepted by SQS`);
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
          const out = await client.send(
            new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }),
          );
          const failed = new Set((out.Failed ?? []).map((f) => f.Id));
          entries = entries.filter((e) => failed.has(e.Id));
        }
      });
    },
  };
}

/** arn:aws:sqs:<region>:<account>:<name> → queue URL, resolved once per queue through the endpoint in use. */
function createSqsVisibilityControl(client: SQSClient): VisibilityControl {
  const urls = new Map<string, Promise<string>>();
  const urlOf = (arn: string): Promise<string> => {
    let url = urls.get(arn);
    if (!url) {
      const [, , , , account, name] = arn.split(':');
      url = client
        .send(new GetQueueUrlCommand({ QueueName: name, QueueOwnerAWSAccountId: account }))
        .then((o) => o.QueueUrl as string);
      url.catch(() => urls.delete(arn));
      urls.set(arn, url);
    }
    return url;
  };
  return {
    async delay(arn, receiptHandle, seconds) {
      await client.send(
        new ChangeMessageVisibilityCommand({
          QueueUrl: await urlOf(arn),
          ReceiptHandle: receiptHandle,
          VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
        }),
      );
    },
  };
}

export { createSqsActionSender, createSqsVisibilityControl, QueueSendError };
