/**
 * unsub: SES receipt rule (Lambda action) for the unsubscribe domains → checked unsubscribes,
 * suppression state in DynamoDB, actions on the actions queue. Throwing makes SES's async
 * invocation retry; a replay is harmless.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SESEvent } from 'aws-lambda';
import { createUnsubWiring } from '../wiring.ts';
import { handleInboundUnsubscribeEvent } from './unsub.ts';

// Cold start: environment and configuration checked, clients built once.
const wiring = createUnsubWiring(process.env);
let coldStart = true;

const handler = middy<SESEvent>()
  .use(injectLambdaContext(wiring.logger))
  .handler(async (event) => {
    if (coldStart) {
      coldStart = false;
      wiring.metrics.captureColdStartMetric();
    }
    return handleInboundUnsubscribeEvent(event, await wiring.deps());
  });

export { handler };
