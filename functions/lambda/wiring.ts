/**
 * Composition root of the Lambda functions (ingest, act): environment → configuration → clients,
 * store, providers, logger and metrics. Built once per execution environment (module scope of the
 * handlers). Only act reads the Secrets Manager secret (`${NAME}` of provider credentials): once,
 * on the first invocation, again while a provider waits for its key (act-providers.ts), and again
 * after a failure. Ingest routes without credentials (parseConfigWithoutSecrets).
 *
 * The sandbox sets the same environment (endpoints of fauxqs and dynalite, no secret: `${NAME}` is
 * read from its own environment, as in local mode) and imports the same handler modules.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ColdStartMetrics, createEmfMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { createDynamoDbActionClaims } from '#adapters/dynamodb/dynamodb-action-claims.ts';
import { recordNotice } from '#adapters/dynamodb/dynamodb-notice-store.ts';
import { createDynamoDbRejectLog } from '#adapters/dynamodb/dynamodb-reject-log.ts';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import { createDynamoDbTrafficStore } from '#adapters/dynamodb/dynamodb-traffic-store.ts';
import { envelopeBodyCodec } from '#adapters/sqs/gzip-base64.ts';
import { createSqsActionSender, createSqsVisibilityControl } from '#adapters/sqs/sqs-action-queue.ts';
import { createClassifier } from '#core/classify/classify.ts';
import type { Config } from '#core/config-schema.ts';
import { createRouter } from '#core/decide/routing.ts';
import { ConfigError } from '#core/errors.ts';
import { createTrafficCounter } from '#core/guardrails/traffic-counter.ts';
import type { ProviderLogEvent } from '#providers/provider-definition.ts';
import { defaultProviderDeps } from '#providers/provider-definition.ts';
import type { ActDeps } from './act/act.ts';
import { buildActProviders } from './act-providers.ts';
import { ENV } from './env.ts';
import type { IngestDeps } from './ingest/ingest.ts';
import type { Log } from './log-port.ts';
import { METRIC_NAMESPACE } from './metric-names.ts';
import { parseConfigWithoutSecrets } from './unsub-notify-wiring.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Optional tuning, read by the act function (defaults suit AWS; the sandbox shortens them). */
const TUNING_ENV = {
  /** First retry delay after a provider failure, seconds (doubles per receive). */
  RETRY_BASE_SECONDS: 'PMTA_BOUNCE_RETRY_BASE_SECONDS',
  RETRY_MAX_SECONDS: 'PMTA_BOUNCE_RETRY_MAX_SECONDS',
  /** INPROGRESS claim expiry, seconds: above the act function's timeout. */
  CLAIM_SECONDS: 'PMTA_BOUNCE_CLAIM_SECONDS',
  /** The actions queue's maxReceiveCount: a failure on that receive is notified as final. */
  MAX_RECEIVE_COUNT: ENV.MAX_RECEIVE_COUNT,
  /** While a provider waits for its key, the secret is read again at most this often, seconds. */
  SECRET_REFRESH_SECONDS: 'PMTA_BOUNCE_SECRET_REFRESH_SECONDS',
} as const;

/** The stack's actions-queue maxReceiveCount (infra/bounce-handler-stack.ts), when not set. */
const DEFAULT_ACT_MAX_RECEIVE_COUNT = 12;

interface CloudSettings {
  configJson: string;
  secretArn: string | undefined;
  table: string;
  actionsQueueUrl: string | undefined;
  sqsEndpoint: string | undefined;
  dynamodbEndpoint: string | undefined;
  region: string | undefined;
}

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(name, 'environment variable is not set');
  return value;
}

/** Throws at cold start when the stack forgot something. */
function readCloudSettings(env: Env): CloudSettings {
  return {
    configJson: env[ENV.CONFIG_JSON] ?? '{}',
    secretArn: env[ENV.SECRET_ARN] || undefined,
    table: required(env, ENV.TABLE_NAME),
    actionsQueueUrl: env[ENV.ACTIONS_QUEUE_URL] || undefined,
    sqsEndpoint: env[ENV.SQS_ENDPOINT] || undefined,
    dynamodbEndpoint: env[ENV.DYNAMODB_ENDPOINT] || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
  };
}

/** `${NAME}` values: the secret's JSON object in AWS; the process environment in the sandbox. */
async function secretValues(
  settings: CloudSettings,
  env: Env,
  client: () => SecretsManagerClient,
): Promise<Env> {
  if (!settings.secretArn) return env;
  const out = await client().send(new GetSecretValueCommand({ SecretId: settings.secretArn }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString ?? '{}');
  } catch {
    throw new ConfigError(ENV.SECRET_ARN, 'the secret is not a JSON object of NAME: value');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError(ENV.SECRET_ARN, 'the secret is not a JSON object of NAME: value');
  }
  return Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, String(v)]));
}

/** The configuration document's raw `providers` list (placeholders intact). */
function providerEntries(settings: CloudSettings): unknown[] {
  let document: unknown;
  try {
    document = JSON.parse(settings.configJson);
  } catch {
    throw new ConfigError(ENV.CONFIG_JSON, 'not valid JSON');
  }
  const providers = (document as { providers?: unknown } | null)?.providers;
  return Array.isArray(providers) ? providers : [];
}

interface Clients {
  dynamo: DynamoDBDocumentClient;
  sqs: SQSClient;
  secrets: () => SecretsManagerClient;
}

function createClients(settings: CloudSettings): Clients {
  const region = settings.region ?? 'us-east-1';
  // Outside AWS (the sandbox) the emulators accept any credentials.
  const local = settings.sqsEndpoint || settings.dynamodbEndpoint;
  const credentials = local ? { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } : undefined;
  const dynamo = new DynamoDBClient({
    region,
    ...(settings.dynamodbEndpoint ? { endpoint: settings.dynamodbEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  const sqs = new SQSClient({
    region,
    ...(settings.sqsEndpoint ? { endpoint: settings.sqsEndpoint } : {}),
    ...(credentials ? { credentials } : {}),
  });
  let secrets: SecretsManagerClient | undefined;
  return {
    dynamo: DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } }),
    sqs,
    secrets: () => {
      secrets ??= new SecretsManagerClient({ region });
      return secrets;
    },
  };
}

function providerLogger(logger: Logger): (event: ProviderLogEvent) => void {
  return ({ message, ...event }) => {
    // `message` is reserved by the logger: carried as `detail`.
    const attributes = { ...event, ...(message === undefined ? {} : { detail: message }) };
    if (event.event === 'call') logger.debug('provider call', attributes);
    else logger.warn(`provider ${event.event}`, attributes);
  };
}

/** The functions' Log port on Powertools' Logger (which wants JSON-safe attributes). */
function asLog(logger: Logger): Log {
  const attrs = (extra?: Record<string, unknown>): LogAttributes[] => (extra ? [extra as LogAttributes] : []);
  return {
    info: (message, extra) => logger.info(message, ...attrs(extra)),
    warn: (message, extra) => logger.warn(message, ...attrs(extra)),
    error: (message, extra) => logger.error(message, ...attrs(extra)),
  };
}

/** Retries the async part (secret, config) on the next invocation if it failed. */
function memo<T>(build: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= build().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}

/**
 * Like memo, but builds afresh once `stale(value)` says so (act: a provider waiting for its key in
 * the secret, so that the key is picked up without recycling the execution environment).
 */
function memoUntilStale<T>(build: () => Promise<T>, stale: (value: T) => boolean): () => Promise<T> {
  let current = memo(build);
  return async () => {
    const value = await current();
    if (!stale(value)) return value;
    current = memo(build);
    return current();
  };
}

/** What the handlers pass of their Lambda context. */
interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

interface FunctionWiring<D> {
  logger: Logger;
  metrics: Metrics;
  deps: (context?: InvocationContext) => Promise<D>;
}

/** Time kept back from the Lambda deadline for the audit, claim and queue writes after the calls. */
const DEADLINE_MARGIN_MS = 10_000;

/**
 * When this invocation's provider work must be done: the remaining time less a margin (at most a
 * fifth of it). Read by every provider's call policy (ProviderDeps.deadlineAt): a wait that would
 * pass it becomes a delayed redelivery instead. One invocation at a time per execution
 * environment in Lambda; the sandbox's concurrent pollers share the latest one.
 */
function invocationDeadline(context: InvocationContext | undefined, now: number): number | undefined {
  // A hand-made context (a test, a manual invoke) may lack the method: no deadline then.
  if (typeof context?.getRemainingTimeInMillis !== 'function') return undefined;
  const remaining = context.getRemainingTimeInMillis();
  return now + remaining - Math.min(DEADLINE_MARGIN_MS, remaining / 5);
}

/** Postmaster notices go to the table only when `notify` is configured (nobody would read them). */
function noticeRecorder(config: Config, clients: Clients, table: string): IngestDeps['notices'] {
  if (!config.notify) return undefined;
  return (notices) => recordNotice(clients.dynamo, table, notices);
}

function observability(serviceName: string): { logger: Logger; metrics: Metrics } {
  return {
    logger: new Logger({ serviceName }),
    // Publishes the cold-start metric (logMetrics in the handlers); the application metrics go
    // through the metric sink, one EMF blob per dimension set.
    metrics: new ColdStartMetrics({ namespace: METRIC_NAMESPACE, serviceName }),
  };
}

function createIngestWiring(env: Env = process.env): FunctionWiring<IngestDeps> {
  const settings = readCloudSettings(env);
  const actionsQueueUrl = settings.actionsQueueUrl ?? required(env, ENV.ACTIONS_QUEUE_URL);
  const clients = createClients(settings);
  const { logger, metrics } = observability('pmta-bounce-ingest');
  const deps = memo(async (): Promise<IngestDeps> => {
    // Routing needs provider ids, types and senders, never their credentials.
    const config = parseConfigWithoutSecrets(settings.configJson, env);
    return {
      classifier: createClassifier(),
      policy: config.policy,
      router: createRouter(config.providers),
      store: new DynamoDbSuppressionStore({ client: clients.dynamo, table: settings.table }),
      rejectLog: createDynamoDbRejectLog(clients.dynamo, settings.table),
      actions: createSqsActionSender(clients.sqs, actionsQueueUrl),
      codec: envelopeBodyCodec,
      metrics: metricSink('pmta-bounce-ingest', env),
      log: asLog(logger),
      now: () => Date.now(),
      accountingFields: config.accounting.fields,
      notices: noticeRecorder(config, clients, settings.table),
      countTraffic: createTrafficCounter(config, createDynamoDbTrafficStore(clients.dynamo, settings.table)),
      guardrails: config.guardrails,
    };
  });
  return { logger, metrics, deps };
}

/** The application metrics of one function (POWERTOOLS_METRICS_DISABLED: the sandbox, tests). */
function metricSink(serviceName: string, env: Env) {
  return createEmfMetricSink({
    namespace: METRIC_NAMESPACE,
    serviceName,
    disabled: env.POWERTOOLS_METRICS_DISABLED === 'true',
  });
}

function numberFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(name, 'not a non-negative number');
  return value;
}

function createActWiring(env: Env = process.env): FunctionWiring<ActDeps> {
  const settings = readCloudSettings(env);
  const clients = createClients(settings);
  const { logger, metrics } = observability('pmta-bounce-act');
  const backoff = {
    baseSeconds: numberFrom(env, TUNING_ENV.RETRY_BASE_SECONDS, 30),
    maxSeconds: numberFrom(env, TUNING_ENV.RETRY_MAX_SECONDS, 900),
  };
  const claimSeconds = numberFrom(env, TUNING_ENV.CLAIM_SECONDS, 960);
  const maxReceiveCount = numberFrom(env, TUNING_ENV.MAX_RECEIVE_COUNT, DEFAULT_ACT_MAX_RECEIVE_COUNT);
  const sink = metricSink('pmta-bounce-act', env);
  const instances = numberFrom(env, ENV.ACT_INSTANCES, 1);
  const invocation: { deadlineAt: number | undefined } = { deadlineAt: undefined };
  const refreshMs = numberFrom(env, TUNING_ENV.SECRET_REFRESH_SECONDS, 60) * 1000;
  const build = async () => {
    const vars = await secretValues(settings, env, clients.secrets);
    const config = parseConfigWithoutSecrets(settings.configJson, env);
    const { providers, unavailable } = buildActProviders({
      entries: providerEntries(settings),
      vars,
      deps: defaultProviderDeps(providerLogger(logger), () => invocation.deadlineAt),
      instances,
    });
    for (const p of unavailable) logger.error('provider unavailable', { provider: p.id, reason: p.reason });
    return { config, providers, degraded: unavailable.length > 0, builtAt: Date.now() };
  };
  const built = memoUntilStale(build, (b) => b.degraded && Date.now() - b.builtAt >= refreshMs);
  const deps = async (context?: InvocationContext): Promise<ActDeps> => {
    invocation.deadlineAt = invocationDeadline(context, Date.now());
    const { config, providers } = await built();
    return {
      providers,
      store: new DynamoDbSuppressionStore({ client: clients.dynamo, table: settings.table }),
      claims: createDynamoDbActionClaims({
        client: clients.dynamo,
        table: settings.table,
        inProgressSeconds: claimSeconds,
      }),
      visibility: createSqsVisibilityControl(clients.sqs),
      metrics: sink,
      log: asLog(logger),
      now: () => Date.now(),
      backoff,
      maxReceiveCount,
      notices: noticeRecorder(config, clients, settings.table),
    };
  };
  return { logger, metrics, deps };
}

export type { CloudSettings, Env, FunctionWiring, InvocationContext };
export { createActWiring, createIngestWiring, readCloudSettings, TUNING_ENV };
