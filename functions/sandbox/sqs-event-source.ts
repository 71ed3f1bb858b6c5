/**
 * Lambda's SQS event source mapping, for the sandbox and tests: long-polls a queue, hands each
 * batch to a handler as a real-shaped SQSEvent (lower-camel messageAttributes, system attributes),
 * then deletes what succeeded. With a partial batch response only the listed messages stay; if the
 * handler throws, none is deleted. What stays comes back after its visibility timeout (or whatever
 * the handler set with ChangeMessageVisibility), and the queue's redrive policy moves it to the
 * DLQ after maxReceiveCount, exactly as in AWS.
 */
import { randomUUID } from 'node:crypto';
import {
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

type SqsHandler = (event: SQSEvent, context: Context) => Promise<unknown>;

interface SqsEventSourceOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  handler: SqsHandler;
  functionName: string;
  region?: string;
  batchSize?: number;
  /** Parallel pollers, like Lambda's concurrent invocations on one mapping. */
  concurrency?: number;
  /** The function's timeout: what the Lambda context's getRemainingTimeInMillis counts down from. */
  timeoutMs?: number;
  /** Long-poll wait (s); short so stop() is prompt. */
  waitTimeSeconds?: number;
  onError?: (error: unknown) => void;
}

interface SqsEventSourceStats {
  invocations: number;
  received: number;
  deleted: number;
  failed: number;
}

interface SqsEventSource {
  start(): void;
  stop(): Promise<void>;
  readonly stats: SqsEventSourceStats;
}

function lambdaAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, v] of Object.entries(attributes ?? {})) {
    out[name] = {
      dataType: v.DataType ?? 'String',
      ...(v.StringValue === undefined ? {} : { stringValue: v.StringValue }),
      ...(v.BinaryValue === undefined ? {} : { binaryValue: Buffer.from(v.BinaryValue).toString('base64') }),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return out;
}

function toRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const a = m.Attributes ?? {};
  return {
    messageId: m.MessageId ?? '',
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
      SentTimestamp: a.SentTimestamp ?? String(Date.now()),
      SenderId: a.SenderId ?? '000000000000',
      ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: lambdaAttributes(m.MessageAttributes),
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function lambdaContext(functionName: string, region: string, timeoutMs = 60_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:000000000000:function:${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'sandbox',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

function failedIds(response: unknown): Set<string> | undefined {
  const failures = (response as SQSBatchResponse | undefined)?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  return new Set(failures.map((f) => f.itemIdentifier));
}

function createSqsEventSource(options: SqsEventSourceOptions): SqsEventSource {
  const region = options.region ?? 'us-east-1';
  const stats: SqsEventSourceStats = { invocations: 0, received: 0, deleted: 0, failed: 0 };
  const controller = new AbortController();
  let loops: Array<Promise<void>> = [];

  async function pollOnce(): Promise<void> {
    const out = await options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: options.queueUrl,
        MaxNumberOfMessages: options.batchSize ?? 10,
        WaitTimeSeconds: options.waitTimeSeconds ?? 1,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
      { abortSignal: controller.signal },
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) return;
    stats.received += messages.length;
    stats.invocations += 1;
    const records = messages.map((m) => toRecord(m, options.queueArn, region));
    let keep: Set<string>;
    try {
      keep =
        failedIds(
          await options.handler(
            { Records: records },
            lambdaContext(options.functionName, region, options.timeoutMs),
          ),
        ) ?? new Set();
    } catch (error) {
      options.onError?.(error);
      keep = new Set(records.map((r) => r.messageId));
    }
    stats.failed += keep.size;
    const done = records.filter((r) => !keep.has(r.messageId));
    if (done.length === 0) return;
    const deleted = await options.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: options.queueUrl,
        Entries: done.map((r, i) => ({ Id: String(i), ReceiptHandle: r.receiptHandle })),
      }),
    );
    stats.deleted += deleted.Successful?.length ?? 0;
  }

  async function loop(): Promise<void> {
    // Bounded by stop(): each turn waits at most waitTimeSeconds for messages.
    while (!controller.signal.aborted) {
      try {
        await pollOnce();
      } catch (error) {
        if (controller.signal.aborted) return;
        options.onError?.(error);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  return {
    stats,
    start() {
      if (loops.length > 0) return;
      loops = Array.from({ length: options.concurrency ?? 1 }, () => loop());
    },
    async stop() {
      controller.abort();
      await Promise.all(loops);
      loops = [];
    },
  };
}

export type { SqsEventSource, SqsEventSourceOptions, SqsEventSourceStats, SqsHandler };
export { createSqsEventSource, lambdaContext, toRecord };
