/**
 * The cloud path as the fault matrix composes it (rather than through startSandbox): fauxqs,
 * dynalite and the provider fakes, each behind a cuttable TCP proxy (tcp-proxy.ts), the queue
 * pairs with their DLQs, and the handlers' environment as the stack sets it. Everything listens on
 * 127.0.0.1.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createBounceTable } from '#adapters/dynamodb/dynamodb-table.ts';
import { ENV } from '#lambda/env.ts';
import { TUNING_ENV } from '#lambda/wiring.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { startDynalite } from '#sandbox/servers.ts';
import { startSqsServer } from '#test/support/sqs-server.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const FAKE = {
  mwKey: 'fault-matrix-mw-key-0123456789',
  iemUser: 'admin',
  iemToken: 'fault-matrix-iem-token-0123456789',
  hookSecret: `whsec_${Buffer.from('fault-matrix-webhook-secret-only').toString('base64')}`,
} as const;
const CREDENTIAL_ENV = {
  mwKey: 'FAULT_MATRIX_MW_KEY',
  iemToken: 'FAULT_MATRIX_IEM_TOKEN',
  hookSecret: 'FAULT_MATRIX_HOOK_SECRET',
} as const;
const MAX_RECEIVES = 4;
const TABLE = 'pmta-bounce';

type Cleanups = Array<() => Promise<unknown> | unknown>;

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return out.Attributes?.QueueArn as string;
}

/** Messages in the queue: visible, in flight or delayed. */
async function depth(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

interface QueuePair {
  url: string;
  arn: string;
  dlq: string;
}

async function createQueuePair(sqs: SQSClient, name: string): Promise<QueuePair> {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl as string;
  const dlqArn = await queueArn(sqs, dlq);
  const url = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: '2',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVES }),
        },
      }),
    )
  ).QueueUrl as string;
  return { url, arn: await queueArn(sqs, url), dlq };
}

function withPort(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.port = String(proxy.port);
  return u.toString().replace(/\/$/, '');
}

interface Pipeline {
  mw: FakeMailwizzServer;
  iem: FakeInterspireServer;
  hook: FakeWebhookServer;
  proxies: { sqs: TcpProxy; dynamo: TcpProxy; mw: TcpProxy; iem: TcpProxy; hook: TcpProxy };
  /** Through the proxy, as the pipeline sees SQS. */
  sqs: SQSClient;
  /** Direct, for the checks. */
  sqsDirect: SQSClient;
  documents: DynamoDBDocumentClient;
  table: string;
  records: QueuePair;
  actions: QueuePair;
}

/** Emulators, fakes, and a proxy in front of each; every stop is pushed to `cleanups`. */
async function startPipeline(cleanups: Cleanups): Promise<Pipeline> {
  const sqsServer = await startSqsServer();
  cleanups.push(() => sqsServer.stop());
  const dynamo = await startDynalite();
  cleanups.push(() => dynamo.stop());
  const mw = await FakeMailwizzServer.start({ mode: 'v2', apiKey: FAKE.mwKey });
  const iem = await FakeInterspireServer.start({ username: FAKE.iemUser, token: FAKE.iemToken });
  const hook = await FakeWebhookServer.start({ secret: FAKE.hookSecret });
  cleanups.push(() => Promise.all([mw.close(), iem.close(), hook.close()]));
  const [sqsProxy, dynamoProxy, mwProxy, iemProxy, hookProxy] = (await Promise.all(
    [sqsServer.endpoint, dynamo.endpoint, mw.url, iem.url, hook.url].map((u) => startTcpProxy(u)),
  )) as [TcpProxy, TcpProxy, TcpProxy, TcpProxy, TcpProxy];
  const proxies = { sqs: sqsProxy, dynamo: dynamoProxy, mw: mwProxy, iem: iemProxy, hook: hookProxy };
  cleanups.push(() => Promise.all(Object.values(proxies).map((p) => p.stop())));
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  // The pipeline's own clients go through the proxies; the checks go direct.
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsProxy.endpoint, credentials });
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials });
  cleanups.push(() => {
    sqs.destroy();
    dynamodb.destroy();
  });
  await createBounceTable(dynamodb, TABLE);
  const records = await createQueuePair(sqs, 'pmta-bounce-records');
  const actions = await createQueuePair(sqs, 'pmta-bounce-actions');
  const documents = DynamoDBDocumentClient.from(dynamodb);
  return {
    mw,
    iem,
    hook,
    proxies,
    sqs,
    sqsDirect: sqsServer.client(),
    documents,
    table: TABLE,
    records,
    actions,
  };
}

/** The provider credentials the handlers read: right, or wrong (the provider-auth fault). */
function setCredentials(right: boolean): void {
  process.env[CREDENTIAL_ENV.mwKey] = right ? FAKE.mwKey : 'wrong-mw-key-0123456789';
  process.env[CREDENTIAL_ENV.iemToken] = right ? FAKE.iemToken : 'wrong-iem-token';
  process.env[CREDENTIAL_ENV.hookSecret] = right
    ? FAKE.hookSecret
    : `whsec_${Buffer.from('not-the-webhook-secret-at-all!!').toString('base64')}`;
}

/** The providers, each reached through its proxy, credentials by reference. */
function providersConfig(p: Pipeline): unknown[] {
  const call = { maxRetries: 1, timeoutMs: 1000 };
  return [
    {
      id: 'mw',
      type: 'mailwizz',
      url: withPort(p.mw.url, p.proxies.mw),
      apiKey: `\${${CREDENTIAL_ENV.mwKey}}`,
      ...call,
    },
    {
      id: 'iem',
      type: 'interspire',
      url: withPort(p.iem.url, p.proxies.iem),
      username: FAKE.iemUser,
      token: `\${${CREDENTIAL_ENV.iemToken}}`,
      ...call,
    },
    {
      id: 'hook',
      type: 'webhook',
      url: withPort(p.hook.url, p.proxies.hook),
      secret: `\${${CREDENTIAL_ENV.hookSecret}}`,
      ...call,
    },
  ];
}

/** The handlers' environment, as the stack (and the sandbox) sets it. */
function setHandlerEnvironment(p: Pipeline, rightCredentials: boolean): void {
  setCredentials(rightCredentials);
  Object.assign(process.env, {
    [ENV.CONFIG_JSON]: JSON.stringify({
      providers: providersConfig(p),
      policy: { soft: { threshold: 2, windowDays: 30 } },
    }),
    [ENV.TABLE_NAME]: p.table,
    [ENV.ACTIONS_QUEUE_URL]: p.actions.url,
    [ENV.SQS_ENDPOINT]: p.proxies.sqs.endpoint,
    [ENV.DYNAMODB_ENDPOINT]: p.proxies.dynamo.endpoint,
    [TUNING_ENV.RETRY_BASE_SECONDS]: '1',
    [TUNING_ENV.RETRY_MAX_SECONDS]: '2',
    [TUNING_ENV.CLAIM_SECONDS]: '6',
    [TUNING_ENV.MAX_RECEIVE_COUNT]: String(MAX_RECEIVES),
    AWS_REGION: 'us-east-1',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: process.env.FAULT_MATRIX_LOG_LEVEL ?? 'SILENT',
  });
  delete process.env[ENV.SECRET_ARN];
}

export type { Cleanups, Pipeline, QueuePair };
export { depth, setCredentials, setHandlerEnvironment, startPipeline };
