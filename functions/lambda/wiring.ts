/**
 * The composition root of the four Lambda functions (ingest, act, unsub, notify): environment →
 * settings → configuration → clients, adapters, logger and metrics. Built once per execution
 * environment (module scope of each handler); what needs the configuration is built on the first
 * invocation, and a failure is retried on the next one.
 *
 * Only act reads the Secrets Manager secret (`${NAME}` of provider credentials): once, on the first
 * invocation, again while a provider waits for its key (adapters/providers/act-providers.ts), and
 * again after a failure. ingest, unsub and notify call no provider: they validate the configuration
 * with the providers reduced to what routing needs, credential placeholders never expanded. The
 * sandbox sets the same environment (fauxqs/dynalite/SES endpoints, no secret: `${NAME}` comes from
 * its own environment, as in local mode) and imports the same handler modules (docs/architecture.md).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ColdStartMetrics, createEmfMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { aes256GcmCipher } from '#adapters/crypto/aes-256-gcm.ts';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { createDynamoDbActionClaims } from '#adapters/dynamodb/dynamodb-action-claims.ts';
import { DynamoDbNoticeStore, recordNotice } from '#adapters/dynamodb/dynamodb-notice-store.ts';
import { createDynamoDbRateCounter } from '#adapters/dynamodb/dynamodb-rate-counter.ts';
import { createDynamoDbRejectLog } from '#adapters/dynamodb/dynamodb-reject-log.ts';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import { createDynamoDbTrafficStore } from '#adapters/dynamodb/dynamodb-traffic-store.ts';
import { createSesV2DigestMailer } from '#adapters/ses/sesv2-digest-mailer.ts';
import { envelopeBodyCodec } from '#adapters/sqs/gzip-base64.ts';
import { createSqsActionSender, createSqsVisibilityControl } from '#adapters/sqs/sqs-action-queue.ts';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { createClassifier } from '#core/classify/classify.ts';
import { type Config, parseConfig, providerBaseSchema } from '#core/config-schema.ts';
import { createRouter } from '#core/decide/routing.ts';
import { ConfigError } from '#core/errors.ts';
import { createTrafficCounter } from '#core/guardrails/traffic-counter.ts';
import type { Log, MetricSink } from '#core/ports.ts';
import { inboundUnsubscribeSettings } from '#core/unsubscribe/unsubscribe-settings.ts';
import { buildActProviders } from '#providers/act-providers.ts';
import { defaultProviderDeps, type ProviderLogEvent } from '#providers/provider-definition.ts';
import type { ActDeps } from './act/act.ts';
import { ENV } from './env.ts';
import type { IngestDeps } from './ingest/ingest.ts';
import { METRIC_NAMESPACE } from './metric-names.ts';
import type { PostmasterDigestDeps } from './notify/notify.ts';
import type { InboundUnsubscribeDeps } from './unsub/unsub.ts';
import type { OneClickHttpDeps } from './unsub-http/unsub-http.ts';

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

/** Extra environment of the notify function (not set by the stack in AWS). */
const NOTIFY_ENV = {
  /** SES v2 endpoint override for the sandbox and tests. */
  SES_ENDPOINT: 'PMTA_BOUNCE_SES_ENDPOINT',
} as const;

/** The stack's actions-queue maxReceiveCount (infra/bounce-handler-stack.ts), when not set. */
const DEFAULT_ACT_MAX_RECEIVE_COUNT = 12;

/** Powertools serviceName of each function: the `service` dimension of its metrics (infra/bounce-metrics.ts). */
const SERVICE_NAME = {
  ingest: 'pmta-bounce-ingest',
  act: 'pmta-bounce-act',
  unsub: 'pmta-bounce-unsub',
  notify: 'pmta-bounce-notify',
  'unsub-http': 'pmta-bounce-unsub-http',
} as const;
type FunctionName = keyof typeof SERVICE_NAME;

// ---------------------------------------------------------------- settings and configuration

interface CloudSettings {
  configJson: string;
  secretArn: string | undefined;
  table: string;
  actionsQueueUrl: string | undefined;
  sqsEndpoint: string | undefined;
  dynamodbEndpoint: string | undefined;
  sesEndpoint: string | undefined;
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
    sesEndpoint: env[NOTIFY_ENV.SES_ENDPOINT] || undefined,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
  };
}

function numberFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(name, 'not a non-negative number');
  return value;
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

function parseConfigJson(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    throw new ConfigError(ENV.CONFIG_JSON, 'not valid JSON');
  }
}

/**
 * The configuration document (ENV.CONFIG_JSON) validated strictly except for provider entries,
 * which keep only their routing keys (unsub, notify, the sandbox's SES inbox). `${NAME}`
 * outside providers is read from `env`.
 */
function parseConfigWithoutSecrets(json: string, env: Env): Config {
  const document = parseConfigJson(json);
  if (!document || typeof document !== 'object' || Array.isArray(document))
    throw new ConfigError(ENV.CONFIG_JSON, 'the configuration must be a mapping of keys');
  const { providers: raw = [], ...rest } = document as Record<string, unknown>;
  if (!Array.isArray(raw)) throw new ConfigError('providers', 'must be a list');
  const config = parseConfig(rest, env, {});
  const providers = raw.map((entry, i) => {
    const parsed = providerBaseSchema.safeParse(entry);
    if (!parsed.success)
      throw new ConfigError(`providers[${i}]`, parsed.error.issues[0]?.message ?? 'invalid');
    return parsed.data as Config['providers'][number];
  });
  return { ...config, providers };
}

// ---------------------------------------------------------------- clients

/** The AWS clients, each built on first use (a function builds only the ones it needs). */
interface Clients {
  dynamo: () => DynamoDBDocumentClient;
  sqs: () => SQSClient;
  ses: () => SESv2Client;
  secrets: () => SecretsManagerClient;
}

function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}

function createClients(settings: CloudSettings): Clients {
  const region = settings.region ?? 'us-east-1';
  // Outside AWS (the sandbox, tests) the stand-ins accept any credentials.
  const local = settings.sqsEndpoint || settings.dynamodbEndpoint || settings.sesEndpoint;
  const options = (endpoint: string | undefined) => ({
    region,
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } } : {}),
  });
  return {
    dynamo: once(() =>
      DynamoDBDocumentClient.from(new DynamoDBClient(options(settings.dynamodbEndpoint)), {
        marshallOptions: { removeUndefinedValues: true },
      }),
    ),
    sqs: once(() => new SQSClient(options(settings.sqsEndpoint))),
    ses: once(() => new SESv2Client(options(settings.sesEndpoint))),
    secrets: once(() => new SecretsManagerClient({ region })),
  };
}

// ---------------------------------------------------------------- logging and metrics

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

/** The configuration document's raw `providers` list (placeholders intact), for act. */
function providerEntries(settings: CloudSettings): unknown[] {
  const providers = (parseConfigJson(settings.configJson) as { providers?: unknown } | null)?.providers;
  return Array.isArray(providers) ? providers : [];
}

// ---------------------------------------------------------------- one function's wiring

/** What the handlers pass of their Lambda context. */
interface InvocationContext {
  getRemainingTimeInMillis(): number;
}

interface FunctionWiring<D> {
  logger: Logger;
  /** Publishes the cold-start metric (logMetrics in the handlers). */
  metrics: Metrics;
  /** The function's dependencies, built on the first call; a failure is retried on the next. */
  deps: (context?: InvocationContext) => Promise<D>;
}

/** What every function's dependencies are built from. */
interface WiringContext {
  env: Env;
  settings: CloudSettings;
  clients: Clients;
  logger: Logger;
  log: Log;
  /** The application metrics, one EMF blob per dimension set (POWERTOOLS_METRICS_DISABLED: none). */
  metricSink: MetricSink;
  now: () => number;
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

function wiringContext(name: FunctionName, env: Env): WiringContext & { metrics: Metrics } {
  const settings = readCloudSettings(env);
  const serviceName = SERVICE_NAME[name];
  const logger = new Logger({ serviceName });
  return {
    env,
    settings,
    clients: createClients(settings),
    logger,
    log: asLog(logger),
    metrics: new ColdStartMetrics({ namespace: METRIC_NAMESPACE, serviceName }),
    metricSink: createEmfMetricSink({
      namespace: METRIC_NAMESPACE,
      serviceName,
      disabled: env.POWERTOOLS_METRICS_DISABLED === 'true',
    }),
    now: () => Date.now(),
  };
}

function wire<D>(
  name: FunctionName,
  env: Env,
  build: (c: WiringContext) => Promise<D> | D,
): FunctionWiring<D> {
  const context = wiringContext(name, env);
  return { logger: context.logger, metrics: context.metrics, deps: memo(async () => build(context)) };
}

/** The configuration without provider credentials (routing keys only): ingest, unsub, notify. */
function routingConfig(c: WiringContext): Config {
  return parseConfigWithoutSecrets(c.settings.configJson, c.env);
}

/** Postmaster notices go to the table only when `notify` is configured (nobody would read them). */
function noticeRecorder(config: Config, c: WiringContext): IngestDeps['notices'] {
  if (!config.notify) return undefined;
  return (notices) => recordNotice(c.clients.dynamo(), c.settings.table, notices);
}

function suppressionStore(c: WiringContext): DynamoDbSuppressionStore {
  return new DynamoDbSuppressionStore({ client: c.clients.dynamo(), table: c.settings.table });
}

function createIngestWiring(env: Env = process.env): FunctionWiring<IngestDeps> {
  const queueUrl = required(env, ENV.ACTIONS_QUEUE_URL);
  return wire('ingest', env, (c) => {
    const config = routingConfig(c);
    const { dynamo, sqs } = c.clients;
    return {
      classifier: createClassifier({ builtin: BUILTIN_RULES, operator: config.classification.rules }),
      policy: config.policy,
      router: createRouter(config.providers),
      store: suppressionStore(c),
      rejectLog: createDynamoDbRejectLog(dynamo(), c.settings.table),
      actions: createSqsActionSender(sqs(), queueUrl),
      codec: envelopeBodyCodec,
      metrics: c.metricSink,
      log: c.log,
      now: c.now,
      accountingFields: config.accounting.fields,
      notices: noticeRecorder(config, c),
      countTraffic: createTrafficCounter(config, createDynamoDbTrafficStore(dynamo(), c.settings.table)),
      guardrails: config.guardrails,
    };
  });
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

/**
 * act's providers from the configuration and the secret; rebuilt (the secret read again) at most
 * every SECRET_REFRESH_SECONDS while one of them waits for its key.
 */
function actProviders(c: WiringContext, invocation: { deadlineAt: number | undefined }) {
  const instances = numberFrom(c.env, ENV.ACT_INSTANCES, 1);
  const refreshMs = numberFrom(c.env, TUNING_ENV.SECRET_REFRESH_SECONDS, 60) * 1000;
  const build = async () => {
    const vars = await secretValues(c.settings, c.env, c.clients.secrets);
    const config = routingConfig(c);
    const { providers, unavailable } = buildActProviders({
      entries: providerEntries(c.settings),
      vars,
      deps: defaultProviderDeps(providerLogger(c.logger), () => invocation.deadlineAt),
      instances,
    });
    for (const p of unavailable) c.logger.error('provider unavailable', { provider: p.id, reason: p.reason });
    return { config, providers, degraded: unavailable.length > 0, builtAt: Date.now() };
  };
  return memoUntilStale(build, (b) => b.degraded && Date.now() - b.builtAt >= refreshMs);
}

function createActWiring(env: Env = process.env): FunctionWiring<ActDeps> {
  const backoff = {
    baseSeconds: numberFrom(env, TUNING_ENV.RETRY_BASE_SECONDS, 30),
    maxSeconds: numberFrom(env, TUNING_ENV.RETRY_MAX_SECONDS, 900),
  };
  const claimSeconds = numberFrom(env, TUNING_ENV.CLAIM_SECONDS, 960);
  const maxReceiveCount = numberFrom(env, TUNING_ENV.MAX_RECEIVE_COUNT, DEFAULT_ACT_MAX_RECEIVE_COUNT);
  const c = wiringContext('act', env);
  const invocation: { deadlineAt: number | undefined } = { deadlineAt: undefined };
  const built = actProviders(c, invocation);
  const { dynamo, sqs } = c.clients;
  const deps = async (context?: InvocationContext): Promise<ActDeps> => {
    invocation.deadlineAt = invocationDeadline(context, Date.now());
    const { config, providers } = await built();
    return {
      providers,
      store: suppressionStore(c),
      claims: createDynamoDbActionClaims({
        client: dynamo(),
        table: c.settings.table,
        inProgressSeconds: claimSeconds,
      }),
      visibility: createSqsVisibilityControl(sqs()),
      metrics: c.metricSink,
      log: c.log,
      now: c.now,
      backoff,
      maxReceiveCount,
      notices: noticeRecorder(config, c),
    };
  };
  return { logger: c.logger, metrics: c.metrics, deps };
}

/**
 * unsub and unsub-http: the configuration with the `${NAME}` of the signing keys from their own
 * secret (ENV.SIGNING_SECRET_ARN), never the provider secret; without it, from the environment
 * (the sandbox, as in local mode).
 */
async function signingConfig(c: WiringContext): Promise<Config> {
  const arn = c.env[ENV.SIGNING_SECRET_ARN];
  if (!arn) return routingConfig(c);
  const vars = await secretValues({ ...c.settings, secretArn: arn }, c.env, c.clients.secrets);
  return parseConfigWithoutSecrets(c.settings.configJson, { ...c.env, ...vars });
}

function createUnsubWiring(env: Env = process.env): FunctionWiring<InboundUnsubscribeDeps> {
  const queueUrl = required(env, ENV.ACTIONS_QUEUE_URL);
  return wire('unsub', env, async (c) => {
    const config = await signingConfig(c);
    return {
      settings: inboundUnsubscribeSettings(config, createRouter(config.providers), hmacSha256),
      store: suppressionStore(c),
      rateCounter: createDynamoDbRateCounter(c.clients.dynamo(), c.settings.table),
      actions: createSqsActionSender(c.clients.sqs(), queueUrl),
      metrics: c.metricSink,
      log: c.log,
      now: c.now,
    };
  });
}

/** unsub-http (the one-click endpoint): as unsub, plus the AES-256-GCM cipher of sealed addresses. */
function createUnsubHttpWiring(env: Env = process.env): FunctionWiring<OneClickHttpDeps> {
  const queueUrl = required(env, ENV.ACTIONS_QUEUE_URL);
  return wire('unsub-http', env, async (c) => {
    const config = await signingConfig(c);
    const { signing, oneClick } = config.unsubscribe;
    return {
      settings: {
        keys: signing?.keys,
        hmac: hmacSha256,
        cipher: aes256GcmCipher,
        listNames: oneClick.listNames,
        router: createRouter(config.providers),
        scope: config.policy.unsubscribeScope,
      },
      limits: { windowMs: oneClick.rateLimit.windowSeconds * 1000, ...oneClick.rateLimit },
      store: suppressionStore(c),
      rateCounter: createDynamoDbRateCounter(c.clients.dynamo(), c.settings.table),
      actions: createSqsActionSender(c.clients.sqs(), queueUrl),
      metrics: c.metricSink,
      log: c.log,
      now: c.now,
    };
  });
}

function createNotifyWiring(env: Env = process.env): FunctionWiring<PostmasterDigestDeps> {
  return wire('notify', env, (c) => ({
    store: new DynamoDbNoticeStore({ client: c.clients.dynamo(), table: c.settings.table }),
    mailer: createSesV2DigestMailer(c.clients.ses()),
    notify: routingConfig(c).notify,
    log: c.log,
    now: c.now,
  }));
}

export type { CloudSettings, Env, FunctionWiring, InvocationContext };
export {
  createActWiring,
  createIngestWiring,
  createNotifyWiring,
  createUnsubHttpWiring,
  createUnsubWiring,
  NOTIFY_ENV,
  parseConfigWithoutSecrets,
  readCloudSettings,
  TUNING_ENV,
};
