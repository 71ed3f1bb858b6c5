/**
 * act: SQS actions queue → each Action run idempotently against its providers (claim, run,
 * complete or release), audit in DynamoDB. Retryable failures return with backoff and end in the
 * DLQ after maxReceiveCount (docs/operations.md "Redrive a DLQ").
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSEvent } from 'aws-lambda';
import { createActWiring } from '../wiring.ts';
import { runActionsBatch } from './act.ts';

// Cold start: environment checked, clients and provider adapters built on first use.
const wiring = createActWiring(process.env);

const handler = middy<SQSEvent>()
  .use(injectLambdaContext(wiring.logger))
  .use(logMetrics(wiring.metrics, { captureColdStartMetric: true }))
  // Failures are logged by the batch function itself (provider errors carry no credentials).
  .use(sqsPartialBatchFailure({ logger: () => {} }))
  // The context's remaining time bounds every provider wait (a longer one becomes a redelivery).
  .handler(async (event, context) => {
    return runActionsBatch(event, await wiring.deps(context));
  });

export { handler };
