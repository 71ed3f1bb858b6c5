/**
 * Moves messages from a DLQ back to its source queue: receive, send (body and attributes kept),
 * then delete only what the source queue accepted. For SQS-compatible servers without
 * StartMessageMoveTask (fauxqs); in AWS prefer `aws sqs start-message-move-task`.
 */
import {
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';

interface RedriveOptions {
  sqs: SQSClient;
  dlqUrl: string;
  targetUrl: string;
  /** Stops after this many messages (default 100 000). */
  maxMessages?: number;
  /** Stops after this long (default 10 minutes). */
  maxMs?: number;
}

interface RedriveResult {
  moved: number;
  failed: number;
}

async function redriveQueue(options: RedriveOptions): Promise<RedriveResult> {
  const { sqs } = options;
  const max = options.maxMessages ?? 100_000;
  const deadline = Date.now() + (options.maxMs ?? 600_000);
  let moved = 0;
  let failed = 0;
  while (moved + failed < max && Date.now() < deadline) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.dlqUrl,
        MaxNumberOfMessages: Math.min(10, max - moved - failed),
        WaitTimeSeconds: 1,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: options.targetUrl,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}),
        })),
      }),
    );
    const ok = new Set((sent.Successful ?? []).map((s) => s.Id));
    failed += messages.length - ok.size;
    const done = messages.filter((_, i) => ok.has(String(i)));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: options.dlqUrl,
          Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle ?? '' })),
        }),
      );
    }
    moved += done.length;
    // What the source queue refused stays in the DLQ (visible again after 60 s): stop, do not spin.
    if (ok.size < messages.length) break;
  }
  return { moved, failed };
}

export type { RedriveOptions, RedriveResult };
export { redriveQueue };
