/**
 * The cloud path on this machine: fauxqs and dynalite on 127.0.0.1, the queues (each with a DLQ
 * and redrive policy) and the table as the CDK stack makes them, and the SAME handler modules
 * (functions/lambda/<fn>/handler.ts) polled as Lambda's SQS event source mappings would, configured through
 * the same environment variables (functions/lambda/env.ts ENV).
 *
 * Extension point: `extraPollers` (e.g. the SES inbox of `--ses-inbox DIR`) get the running
 * context and are started and stopped with the rest.
 *
 * The handler modules read the environment once, at import (cold start): one sandbox per process.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createBounceTable } from '#adapters/dynamodb/dynamodb-table.ts';
import { ENV, HANDLER_ENTRIES } from '#lambda/env.ts';
import { TUNING_ENV } from '#lambda/wiring.ts';
import { type LocalServer, startDynalite, startEmulatorProcess, startFauxqs } from './servers.ts';
import { createSqsEventSource, type SqsEventSource, type SqsHandler } from './sqs-event-source.ts';

const SANDBOX_REGION = 'us-east-1';
const SANDBOX_CREDENTIALS = { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } as const;

/** Names and settings of the sandbox resources (mirroring the stack's). */
const SANDBOX_NAMES = {
  table: 'pmta-bounce',
  recordsQueue: 'pmta-bounce-records',
  actionsQueue: 'pmta-bounce-actions',
  dlqSuffix: '-dlq',
} as const;

interface QueuePair {
  url: string;
  arn: string;
  dlqUrl: string;
  dlqArn: string;
}

interface SandboxContext {
  region: string;
  sqsEndpoint: string;
  dynamodbEndpoint: string;
  table: string;
  records: QueuePair;
  actions: QueuePair;
  sqs: SQSClient;
  dynamodb: DynamoDBClient;
  /** The environment the handlers were given. */
  env: Record<string, string>;
}

/** Anything the sandbox starts and stops with itself (pollers of other event sources). */
interface SandboxPoller {
  start(): void;
  stop(): Promise<void>;
}

interface SandboxOptions {
  /** The configuration document as written (`${NAME}` placeholders kept; read from `env`). */
  configDocument: unknown;
  /** Where `${NAME}` values come from (the process environment). */
  env?: Record<string, string | undefined>;
  sqsPort?: number;
  dynamodbPort?: number;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  retryBaseSeconds?: number;
  retryMaxSeconds?: number;
  ingestConcurrency?: number;
  actConcurrency?: number;
  /**
   * Run fauxqs and dynalite in child processes (a core of their own) instead of in this event
   * loop. Off by default: tests start faster in one process.
   */
  emulatorProcesses?: boolean;
  /** Publish EMF metrics to stdout (off by default: noise on a terminal). */
  metrics?: boolean;
  /** Handlers to use instead of importing the handler modules (tests of the runtime itself). */
  handlers?: { ingest: SqsHandler; act: SqsHandler };
  extraPollers?: ReadonlyArray<(context: SandboxContext) => SandboxPoller>;
  onError?: (source: string, error: unknown) => void;
}

interface Sandbox {
  context: SandboxContext;
  ingest: SqsEventSource;
  act: SqsEventSource;
  stop(): Promise<void>;
}

async function createQueuePair(
  sqs: SQSClient,
  name: string,
  visibilityTimeoutSeconds: number,
  maxReceiveCount: number,
): Promise<QueuePair> {
  const arnOf = async (url: string): Promise<string> => {
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
    );
    return out.Attributes?.QueueArn as string;
  };
  const dlq = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}${SANDBOX_NAMES.dlqSuffix}`,
      Attributes: { MessageRetentionPeriod: String(14 * 86_400) },
    }),
  );
  const dlqUrl = dlq.QueueUrl as string;
  const dlqArn = await arnOf(dlqUrl);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        MessageRetentionPeriod: String(4 * 86_400),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    }),
  );
  const url = queue.QueueUrl as string;
  return { url, arn: await arnOf(url), dlqUrl, dlqArn };
}

function handlerEnv(
  options: SandboxOptions,
  sqsEndpoint: string,
  dynamodbEndpoint: string,
  actionsUrl: string,
): Record<string, string> {
  return {
    [ENV.CONFIG_JSON]: JSON.stringify(options.configDocument ?? {}),
    [ENV.TABLE_NAME]: SANDBOX_NAMES.table,
    [ENV.ACTIONS_QUEUE_URL]: actionsUrl,
    [ENV.SQS_ENDPOINT]: sqsEndpoint,
    [ENV.DYNAMODB_ENDPOINT]: dynamodbEndpoint,
    [TUNING_ENV.RETRY_BASE_SECONDS]: String(options.retryBaseSeconds ?? 5),
    [TUNING_ENV.RETRY_MAX_SECONDS]: String(options.retryMaxSeconds ?? 60),
    [TUNING_ENV.CLAIM_SECONDS]: String(Math.max(60, (options.visibilityTimeoutSeconds ?? 30) * 2)),
    [TUNING_ENV.MAX_RECEIVE_COUNT]: String(options.maxReceiveCount ?? 5),
    AWS_REGION: SANDBOX_REGION,
    POWERTOOLS_METRICS_DISABLED: options.metrics ? 'false' : 'true',
    POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
}

async function loadHandlers(): Promise<{ ingest: SqsHandler; act: SqsHandler }> {
  // The entries the stack deploys, resolved from the repository root.
  const root = new URL('../../', import.meta.url);
  const ingest = (await import(new URL(HANDLER_ENTRIES.ingest, root).href)) as { handler: SqsHandler };
  const act = (await import(new URL(HANDLER_ENTRIES.act, root).href)) as { handler: SqsHandler };
  return { ingest: ingest.handler, act: act.handler };
}

/** Step 1: the emulators (in this process, or each in a child process of its own). */
async function startEmulators(options: SandboxOptions, servers: LocalServer[]) {
  const sqsServer = options.emulatorProcesses
    ? await startEmulatorProcess('fauxqs', options.sqsPort ?? 0)
    : await startFauxqs(options.sqsPort ?? 0);
  servers.push(sqsServer);
  const dynamoServer = options.emulatorProcesses
    ? await startEmulatorProcess('dynalite', options.dynamodbPort ?? 0)
    : await startDynalite(options.dynamodbPort ?? 0);
  servers.push(dynamoServer);
  return { sqsServer, dynamoServer };
}

/** Step 2: the table and both queue pairs, as the stack creates them. */
async function createResources(
  options: SandboxOptions,
  sqsEndpoint: string,
  dynamodbEndpoint: string,
): Promise<Omit<SandboxContext, 'env'>> {
  const client = { region: SANDBOX_REGION, credentials: SANDBOX_CREDENTIALS };
  const sqs = new SQSClient({ ...client, endpoint: sqsEndpoint });
  const dynamodb = new DynamoDBClient({ ...client, endpoint: dynamodbEndpoint });
  const visibility = options.visibilityTimeoutSeconds ?? 30;
  const maxReceive = options.maxReceiveCount ?? 5;
  await createBounceTable(dynamodb, SANDBOX_NAMES.table);
  const records = await createQueuePair(sqs, SANDBOX_NAMES.recordsQueue, visibility, maxReceive);
  const actions = await createQueuePair(sqs, SANDBOX_NAMES.actionsQueue, visibility, maxReceive);
  const table = SANDBOX_NAMES.table;
  return { region: SANDBOX_REGION, sqsEndpoint, dynamodbEndpoint, table, records, actions, sqs, dynamodb };
}

/**
 * Step 3: the handlers' environment. Their cold start reads it; anything else of the user's
 * environment (the `${NAME}` values) stays as it is. No secret ARN: values come from the environment.
 */
async function prepareHandlers(
  options: SandboxOptions,
  resources: Omit<SandboxContext, 'env'>,
): Promise<{ env: Record<string, string>; handlers: { ingest: SqsHandler; act: SqsHandler } }> {
  const { sqsEndpoint, dynamodbEndpoint, actions } = resources;
  const env = handlerEnv(options, sqsEndpoint, dynamodbEndpoint, actions.url);
  Object.assign(process.env, env);
  delete process.env[ENV.SECRET_ARN];
  return { env, handlers: options.handlers ?? (await loadHandlers()) };
}

/**
 * Step 4: one event source per queue, as the stack maps them: one records message (thousands of
 * records) per ingest invocation, ten actions per act invocation.
 */
function startEventSources(
  options: SandboxOptions,
  context: SandboxContext,
  handlers: { ingest: SqsHandler; act: SqsHandler },
): { ingest: SqsEventSource; act: SqsEventSource } {
  const source = (
    name: string,
    pair: QueuePair,
    handler: SqsHandler,
    concurrency: number,
    batchSize: number,
  ) =>
    createSqsEventSource({
      sqs: context.sqs,
      queueUrl: pair.url,
      queueArn: pair.arn,
      handler,
      functionName: `pmta-bounce-${name}`,
      region: SANDBOX_REGION,
      concurrency,
      batchSize,
      onError: (error) => options.onError?.(name, error),
    });
  const ingest = source('ingest', context.records, handlers.ingest, options.ingestConcurrency ?? 2, 1);
  const act = source('act', context.actions, handlers.act, options.actConcurrency ?? 4, 10);
  ingest.start();
  act.start();
  return { ingest, act };
}

/** The cloud path on this machine: emulators, resources, the handler modules, their event sources. */
async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const servers: LocalServer[] = [];
  const stopServers = async (): Promise<void> => {
    for (const s of servers.reverse()) await s.stop();
  };
  try {
    const { sqsServer, dynamoServer } = await startEmulators(options, servers);
    const resources = await createResources(options, sqsServer.endpoint, dynamoServer.endpoint);
    const { env, handlers } = await prepareHandlers(options, resources);
    const context: SandboxContext = { ...resources, env };
    const { ingest, act } = startEventSources(options, context, handlers);
    const extras = (options.extraPollers ?? []).map((make) => make(context));
    for (const p of extras) p.start();
    let stopped = false;
    return {
      context,
      ingest,
      act,
      async stop() {
        if (stopped) return;
        stopped = true;
        await Promise.all([ingest.stop(), act.stop(), ...extras.map((p) => p.stop())]);
        context.sqs.destroy();
        context.dynamodb.destroy();
        await stopServers();
      },
    };
  } catch (error) {
    await stopServers();
    throw error;
  }
}

export type { QueuePair, Sandbox, SandboxContext, SandboxOptions, SandboxPoller };
export { SANDBOX_CREDENTIALS, SANDBOX_NAMES, SANDBOX_REGION, startSandbox };
