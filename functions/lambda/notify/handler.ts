/**
 * notify: EventBridge schedule (every `notify.digestMinutes`) → one postmaster digest of the
 * pending complaints and failed actions through SES v2, then those notices are removed.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createNotifyWiring } from '../wiring.ts';
import { sendPostmasterDigests } from './notify.ts';

const wiring = createNotifyWiring(process.env);

const handler = middy()
  .use(injectLambdaContext(wiring.logger))
  .handler(async () => sendPostmasterDigests(await wiring.deps()));

export { handler };
