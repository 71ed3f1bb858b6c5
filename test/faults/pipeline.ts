/**
 * The cloud path as the fault matrix composes it (rather than through startSandbox): fauxqs,
 * dynalite and the provider fakes (MailWizz, Interspire, webhook, listmonk, Mautic), each behind a cuttable TCP proxy (tcp-proxy.ts), the queue
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
import { FakeListmonkServer } from '#sandbox/fakes/fake-listmonk-server.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeMauticServer } from '#sandbox/fakes/fake-mautic-server.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { startDynalite } from '#sandbox/servers.ts';
import { startSqsServer } from '#test/support/sqs-server.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const FAKE = {
  mwKey: 'fault-matrix-mw-key-0123456789',
  iemUser: 'admin',
  iemToken: 'fault-matrix-iem-token-0123456789',
  hookSecret: `whsec_${Buffer.from('fault-matrix-webhook-secret-only').toString('base64')}`,
  lmToken: 'fault-matrix-listmonk-token-0123456789',
  mauticSecret: 'fault-matrix-mautic-secret-0123456789',
} as const;
const CREDENTIAL_ENV = {
  mwKey: 'FAULT_MATRIX_MW_KEY',
  iemToken: 'FAULT_MATRIX_IEM_TOKEN',
  hookSecret: 'FAULT_MATRIX_HOOK_SECRET',
  lmToken: 'FAULT_MATRIX_LISTMONK_TOKEN',
  mauticSecret: 'FAULT_MATRIX_MAUTIC_SECRET',
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

/** The provider fakes: MailWizz, Interspire, webhook, listmonk (bounce webhook) and Mautic (DNC). */
interface Fakes {
  mw: FakeMailwizzServer;
  iem: FakeInterspireServer;
  hook: FakeWebhookServer;
  lm: FakeListmonkServer;
  mautic: FakeMauticServer;
}

type ProxyName = 'sqs' | 'dynamo' | keyof Fakes;

interface Pipeline extends Fakes {
  proxies: Record<ProxyName, TcpProxy>;
  /** Through the proxy, as the pipeline sees SQS. */
  sqs: SQSClient;
  /** Direct, for the checks. */
  sqsDirect: SQSClient;
  documents: DynamoDBDocumentClient;
  table: string;
  records: QueuePair;
  actions: QueuePair;
}

async function startFakes(cleanups: Cleanups): Promise<Fakes> {
  const fakes: Fakes = {
    mw: await FakeMailwizzServer.start({ mode: 'v2', apiKey: FAKE.mwKey }),
    iem: await FakeInterspireServer.start({ username: FAKE.iemUser, token: FAKE.iemToken }),
    hook: await FakeWebhookServer.start({ secret: FAKE.hookSecret }),
    lm: await FakeListmonkServer.start({ username: 'api', token: FAKE.lmToken }),
    mautic: await FakeMauticServer.start({ clientId: 'client', clientSecret: FAKE.mauticSecret }),
  };
  cleanups.push(() => Promise.all(Object.values(fakes).map((f) => f.close())));
  return fakes;
}

/** A cuttable proxy in front of each emulator and fake. */
async function startProxies(
  cleanups: Cleanups,
  targets: Record<ProxyName, string>,
): Promise<Record<ProxyName, TcpProxy>> {
  const names = Object.keys(targets) as ProxyName[];
  const started = await Promise.all(names.map((n) => startTcpProxy(targets[n])));
  const proxies = Object.fromEntries(names.map((n, i) => [n, started[i]!])) as Record<ProxyName, TcpProxy>;
  cleanups.push(() => Promise.all(started.map((p) => p.stop())));
  return proxies;
}

/** Emulators, fakes, and a proxy in front of each; every stop is pushed to `cleanups`. */
async function startPipeline(cleanups: Cleanups): Promise<Pipeline> {
  const sqsServer = await startSqsServer();
  cleanups.push(() => sqsServer.stop());
  const dynamo = await startDynalite();
  cleanups.push(() => dynamo.stop());
  const fakes = await startFakes(cleanups);
  const { mw, iem, hook, lm, mautic } = fakes;
  const proxies = await startProxies(cleanups, {
    sqs: sqsServer.endpoint,
    dynamo: dynamo.endpoint,
    mw: mw.url,
    iem: iem.url,
    hook: hook.url,
    lm: lm.url,
    mautic: mautic.url,
  });
  const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
  // The pipeline's own clients go through the proxies; the checks go direct.
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: proxies.sqs.endpoint, credentials });
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials });
  cleanups.push(() => {
    sqs.destroy();
    dynamodb.destroy();
  });
  await createBounceTable(dynamodb, TABLE);
  const records = await createQueuePair(sqs, 'pmta-bounce-records');
  const actions = await createQueuePair(sqs, 'pmta-bounce-actions');
  const documents = DynamoDBDocumentClient.from(dynamodb);
  const sqsDirect = sqsServer.client();
  return { ...fakes, proxies, sqs, sqsDirect, documents, table: TABLE, records, actions };
}

/** The provider credentials the handlers read: right, or wrong (the provider-auth fault). */
function setCredentials(right: boolean): void {
  process.env[CREDENTIAL_ENV.mwKey] = right ? FAKE.mwKey : 'wrong-mw-key-0123456789';
  process.env[CREDENTIAL_ENV.iemToken] = right ? FAKE.iemToken : 'wrong-iem-token';
  process.env[CREDENTIAL_ENV.hookSecret] = right
    ? FAKE.hookSecret
    : `whsec_${Buffer.from('not-the-webhook-secret-at-all!!').toString('base64')}`;
  process.env[CREDENTIAL_ENV.lmToken] = right ? FAKE.lmToken : 'wrong-listmonk-token';
  process.env[CREDENTIAL_ENV.mauticSecret] = right ? FAKE.mauticSecret : 'wrong-mautic-secret';
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
    {
      id: 'lm',
      type: 'listmonk',
      url: withPort(p.lm.url, p.proxies.lm),
      username: 'api',
      token: `\${${CREDENTIAL_ENV.lmToken}}`,
      ...call,
    },
    {
      id: 'mautic',
      type: 'mautic',
      url: withPort(p.mautic.url, p.proxies.mautic),
      clientId: 'client',
      clientSecret: `\${${CREDENTIAL_ENV.mauticSecret}}`,
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
      // Pairs of soft bounces a few records apart must add up: counting once per UTC day
      // (the default since docs/classification.md "Soft bounces") would merge them.
      policy: { soft: { threshold: 2, windowDays: 30, onePerUtcDay: false } },
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
