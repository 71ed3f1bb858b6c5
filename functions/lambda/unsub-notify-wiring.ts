/**
 * Composition root of the unsub and notify functions. Neither calls a provider, so neither reads
 * the provider secret: the configuration is validated with the providers reduced to what routing
 * needs (id, type, senders), and their credential placeholders are never expanded. The ingest
 * function parses the same way (wiring.ts): Secrets Manager access is the act function's alone.
 *
 * The sandbox sets the same environment (fauxqs/dynalite endpoints; SES_ENDPOINT for a local SES
 * stand-in) and imports the same handler modules.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ColdStartMetrics, createEmfMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { DynamoDbNoticeStore } from '#adapters/dynamodb/dynamodb-notice-store.ts';
import { createDynamoDbRateCounter } from '#adapters/dynamodb/dynamodb-rate-counter.ts';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import { createSesV2DigestMailer } from '#adapters/ses/sesv2-digest-mailer.ts';
import { createSqsActionSender } from '#adapters/sqs/sqs-action-queue.ts';
import { type Config, parseConfig, providerBaseSchema } from '#core/config-schema.ts';
import { createRouter } from '#core/decide/routing.ts';
import { ConfigError } from '#core/errors.ts';
import { inboundUnsubscribeSettings } from '#core/unsubscribe/unsubscribe-settings.ts';
import { ENV } from './env.ts';
import type { Log } from './log-port.ts';
import { METRIC_NAMESPACE } from './metric-names.ts';
import type { PostmasterDigestDeps } from './notify/notify.ts';
import type { InboundUnsubscribeDeps } from './unsub/unsub.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Extra environment of these functions (not set by the stack in AWS). */
const NOTIFY_ENV = {
  /** SES v2 endpoint override for the sandbox and tests. */
  SES_ENDPOINT: 'PMTA_BOUNCE_SES_ENDPOINT',
} as const;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(name, 'environment variable is not set');
  return value;
}

/**
 * The configuration document (ENV.CONFIG_JSON) validated strictly except for provider entries,
 * which keep only their routing keys. `${NAME}` outside providers is read from `env`.
 */
function parseConfigWithoutSecrets(json: string, env: Env): Config {
  let document: unknown;
  try {
    document = JSON.parse(json);
  } catch {
    throw new ConfigError(ENV.CONFIG_JSON, 'not valid JSON');
  }
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

function asLog(logger: Logger): Log {
  const attrs = (extra?: Record<string, unknown>): LogAttributes[] => (extra ? [extra as LogAttributes] : []);
  return {
    info: (message, extra) => logger.info(message, ...attrs(extra)),
    warn: (message, extra) => logger.warn(message, ...attrs(extra)),
    error: (message, extra) => logger.error(message, ...attrs(extra)),
  };
}

function clientOptions(env: Env, endpoint: string | undefined) {
  const local = env[ENV.SQS_ENDPOINT] || env[ENV.DYNAMODB_ENDPOINT] || env[NOTIFY_ENV.SES_ENDPOINT];
  return {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    // Outside AWS (sandbox, tests) the stand-ins accept any credentials.
    ...(local ? { credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } } : {}),
  };
}

function documentClient(env: Env): DynamoDBDocumentClient {
  const dynamo = new DynamoDBClient(clientOptions(env, env[ENV.DYNAMODB_ENDPOINT] || undefined));
  return DynamoDBDocumentClient.from(dynamo, { marshallOptions: { removeUndefinedValues: true } });
}

interface Wiring<D> {
  logger: Logger;
  metrics: Metrics;
  deps: D;
}

/** Throws at cold start when the stack forgot something or the configuration is invalid. */
function createUnsubWiring(env: Env = process.env): Wiring<InboundUnsubscribeDeps> {
  const config = parseConfigWithoutSecrets(env[ENV.CONFIG_JSON] ?? '{}', env);
  const table = required(env, ENV.TABLE_NAME);
  const queueUrl = required(env, ENV.ACTIONS_QUEUE_URL);
  const logger = new Logger({ serviceName: 'pmta-bounce-unsub' });
  const metrics = new ColdStartMetrics({ namespace: METRIC_NAMESPACE, serviceName: 'pmta-bounce-unsub' });
  const sqs = new SQSClient(clientOptions(env, env[ENV.SQS_ENDPOINT] || undefined));
  const documents = documentClient(env);
  return {
    logger,
    metrics,
    deps: {
      settings: inboundUnsubscribeSettings(config, createRouter(config.providers), hmacSha256),
      store: new DynamoDbSuppressionStore({ client: documents, table }),
      rateCounter: createDynamoDbRateCounter(documents, table),
      actions: createSqsActionSender(sqs, queueUrl),
      metrics: createEmfMetricSink({
        namespace: METRIC_NAMESPACE,
        serviceName: 'pmta-bounce-unsub',
        disabled: env.POWERTOOLS_METRICS_DISABLED === 'true',
      }),
      log: asLog(logger),
      now: () => Date.now(),
    },
  };
}

function createNotifyWiring(env: Env = process.env): Wiring<PostmasterDigestDeps> {
  const config = parseConfigWithoutSecrets(env[ENV.CONFIG_JSON] ?? '{}', env);
  const table = required(env, ENV.TABLE_NAME);
  const logger = new Logger({ serviceName: 'pmta-bounce-notify' });
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: 'pmta-bounce-notify' });
  const ses = new SESv2Client(clientOptions(env, env[NOTIFY_ENV.SES_ENDPOINT] || undefined));
  return {
    logger,
    metrics,
    deps: {
      store: new DynamoDbNoticeStore({ client: documentClient(env), table }),
      mailer: createSesV2DigestMailer(ses),
      notify: config.notify,
      log: asLog(logger),
      now: () => Date.now(),
    },
  };
}

export type { Wiring };
export { createNotifyWiring, createUnsubWiring, NOTIFY_ENV, parseConfigWithoutSecrets };
