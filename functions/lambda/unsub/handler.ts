/**
 * unsub: SES receipt rule (Lambda action) for the unsubscribe domains → checked unsubscribes,
 * suppression state in DynamoDB, actions on the actions queue. Throwing makes SES's async
 * invocation retry; a replay is harmless.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { SESEvent } from 'aws-lambda';
import { createUnsubWiring } from '../wiring.ts';
import { handleInboundUnsubscribeEvent } from './unsub.ts';

// Cold start: environment and configuration checked, clients built once.
const wiring = createUnsubWiring(process.env);

const handler = middy<SESEvent>()
  .use(injectLambdaContext(wiring.logger))
  .use(logMetrics(wiring.metrics, { captureColdStartMetric: true }))
  .handler(async (event) => {
    return handleInboundUnsubscribeEvent(event, await wiring.deps());
  });

export { handler };
