/**
 * A house function fed by its own SQS queue: the queue (SSE-SQS, TLS only) with a dead-letter queue
 * and redrive policy, a visibility timeout of 6x the function timeout (AWS guidance for SQS event
 * sources), and an event source that reports batch item failures. SSE-SQS keeps the senders free
 * of any KMS grant: `sqs:SendMessage` alone is enough to send.
 */
import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BounceFunction, type BounceFunctionProps } from './bounce-function.ts';

/** AWS guidance: the queue's visibility timeout is at least 6x the function timeout. */
const VISIBILITY_FACTOR = 6;
/** SQS's largest message (1 MiB): the shipper packs many records per message. */
const MAX_MESSAGE_BYTES = 1_048_576;

interface QueueConsumerFunctionProps extends BounceFunctionProps {
  /** Deliveries of one message before it moves to the dead-letter queue. */
  maxReceiveCount: number;
  /** Messages per invocation. */
  batchSize: number;
  /** Wait up to this long to fill a batch. */
  maxBatchingWindow?: Duration;
  /** At most this many concurrent invocations from the queue (2..1000); unset = unbounded. */
  maxConcurrency?: number;
  /** How long messages stay in the queue (default 4 days; the DLQ keeps them 14 days). */
  retentionPeriod?: Duration;
}

class QueueConsumerFunction extends BounceFunction {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: QueueConsumerFunctionProps) {
    super(scope, id, props);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
    });
    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.timeout.toSeconds() * VISIBILITY_FACTOR),
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      retentionPeriod: props.retentionPeriod ?? Duration.days(4),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
    this.eventSource = new SqsEventSource(this.queue, {
      batchSize: props.batchSize,
      maxBatchingWindow: props.maxBatchingWindow,
      maxConcurrency: props.maxConcurrency,
      reportBatchItemFailures: true,
    });
    this.function.addEventSource(this.eventSource);
  }
}

export type { QueueConsumerFunctionProps };
export { MAX_MESSAGE_BYTES, QueueConsumerFunction, VISIBILITY_FACTOR };
