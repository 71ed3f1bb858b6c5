/**
 * unsub-http: the one-click endpoint (RFC 8058) behind a Lambda Function URL → checked request,
 * suppression state in DynamoDB, action on the actions queue (act calls the providers).
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { LambdaFunctionURLEvent, APIGatewayProxyStructuredResultV2 as UrlResult } from 'aws-lambda';
import { createUnsubHttpWiring } from '../wiring.ts';
import { handleOneClickHttp } from './unsub-http.ts';

// Cold start: environment checked, clients built once; configuration and signing keys (their own
// secret) on the first request.
const wiring = createUnsubHttpWiring(process.env);

const handler = middy<LambdaFunctionURLEvent, UrlResult>()
  .use(injectLambdaContext(wiring.logger))
  .use(logMetrics(wiring.metrics, { captureColdStartMetric: true }))
  .handler(async (event) => handleOneClickHttp(event, await wiring.deps()));

export { handler };
