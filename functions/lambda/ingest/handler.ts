/**
 * ingest: SQS records queue (envelopes from pmta-shipper) → decisions, suppression state in
 * DynamoDB, one Action per recipient on the actions queue. Partial batch failures: a failed
 * message returns alone (ReportBatchItemFailures on the event source mapping).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import sqsPartialBatchFailure from '@middy/sqs-partial-batch-failure';
import type { SQSEvent } from 'aws-lambda';
import { createIngestWiring } from '../wiring.ts';
import { ingestAccountingBatch } from './ingest.ts';

// Cold start: environment checked, clients built; the secret is read on the first invocation.
const wiring = createIngestWiring(process.env);
let coldStart = true;

const handler = middy<SQSEvent>()
  .use(injectLambdaContext(wiring.logger))
  // Failures are logged by the batch function itself, without message bodies.
  .use(sqsPartialBatchFailure({ logger: () => {} }))
  .handler(async (event) => {
    if (coldStart) {
      coldStart = false;
      wiring.metrics.captureColdStartMetric();
    }
    return ingestAccountingBatch(event, await wiring.deps());
  });

export { handler };
