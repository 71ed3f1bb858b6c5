/**
 * unsub-http: the one-click endpoint (RFC 8058) behind a Lambda Function URL → checked request,
 * suppression state in DynamoDB, action on the actions queue (act calls the providers).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { LambdaFunctionURLEvent, APIGatewayProxyStructuredResultV2 as UrlResult } from 'aws-lambda';
import { createUnsubHttpWiring, signingSecretValues } from '../unsub-notify-wiring.ts';
import { handleOneClickHttp } from './unsub-http.ts';

// Cold start: environment, configuration and signing keys (their own secret) read once.
const wiring = createUnsubHttpWiring(process.env, await signingSecretValues(process.env));
let coldStart = true;

const handler = middy<LambdaFunctionURLEvent, UrlResult>()
  .use(injectLambdaContext(wiring.logger))
  .handler(async (event) => {
    if (coldStart) {
      coldStart = false;
      wiring.metrics.captureColdStartMetric();
    }
    return handleOneClickHttp(event, wiring.deps);
  });

export { handler };
