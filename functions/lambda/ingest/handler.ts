/**
 * ingest: SQS records queue (envelopes from pmta-shipper) → decisions, suppression state in
 * DynamoDB, one Action per recipient on the actions queue. Partial batch failures: a failed
 * message returns alone (ReportBatchItemFailures on the event source mapping).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSEvent } from 'aws-lambda';
import { createIngestWiring } from '../wiring.ts';
import { ingestAccountingBatch } from './ingest.ts';

// Cold start: environment checked, clients built; the configuration (routing only, no secret) is
// parsed on the first invocation.
const wiring = createIngestWiring(process.env);

const handler = middy<SQSEvent>()
  .use(injectLambdaContext(wiring.logger))
  .use(logMetrics(wiring.metrics, { captureColdStartMetric: true }))
  // Failures are logged by the batch function itself, without message bodies.
  .use(sqsPartialBatchFailure({ logger: () => {} }))
  .handler(async (event) => {
    return ingestAccountingBatch(event, await wiring.deps());
  });

export { handler };
