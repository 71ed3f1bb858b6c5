/**
 * `pmta-bounce sandbox` — the whole cloud path on this machine (see sandbox-runtime.ts), running
 * until SIGINT/SIGTERM — and `pmta-bounce redrive`, which moves a sandbox DLQ back to its queue.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parse as parseYaml } from 'yaml';
import { type CliIo, ExitCode, processIo } from '#cli/cli-io.ts';
import { loadConfigFile, resolveConfigPath } from '#cli/config-file.ts';
import { ConfigError } from '#core/errors.ts';
import { SANDBOX_EXTENSIONS } from './extensions.ts';
import { redriveQueue } from './redrive.ts';
import {
  SANDBOX_CREDENTIALS,
  SANDBOX_NAMES,
  SANDBOX_REGION,
  type Sandbox,
  type SandboxPoller,
  startSandbox,
} from './runtime.ts';
import type { PreparedExtension } from './sandbox-extension.ts';
import { checkEmulatorsInstalled } from './servers.ts';

const DEFAULT_SQS_PORT = 9324;
const DEFAULT_DYNAMODB_PORT = 8000;

const SANDBOX_HELP = `usage: pmta-bounce sandbox [--config F] [--sqs-port N] [--dynamodb-port N] [--metrics]
  Starts an SQS-compatible server (fauxqs) and dynalite on 127.0.0.1, creates the queues (with DLQs)
  and the table, and runs the ingest and act handlers on them until interrupted.
  --sqs-port N          default ${DEFAULT_SQS_PORT} (0: any free port)
  --dynamodb-port N     default ${DEFAULT_DYNAMODB_PORT} (0: any free port)
  --visibility-timeout S  queue visibility timeout, seconds (default 30)
  --max-receive-count N   receives before a message goes to its DLQ (default 5)
  --metrics             print the EMF metric lines the functions publish
${SANDBOX_EXTENSIONS.map((e) => e.help).join('\n')}`;

const REDRIVE_HELP = `usage: pmta-bounce redrive [--queue actions|records] [--endpoint-url URL] [--max N]
  Moves the messages of a sandbox DLQ back to its source queue.
  --endpoint-url URL    the sandbox's SQS endpoint (default http://127.0.0.1:${DEFAULT_SQS_PORT})
  --queue NAME          actions (default) or records, or a queue name: its DLQ is NAME${SANDBOX_NAMES.dlqSuffix}
  --max N               move at most N messages (default 100000)
  In AWS use: aws sqs start-message-move-task --source-arn <DLQ ARN> (docs/operations.md).`;

function port(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new ConfigError(flag, 'not a port number');
  return n;
}

function positive(value: string | undefined, fallback: number, flag: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new ConfigError(flag, 'not a positive integer');
  return n;
}

/** The document as written (placeholders kept: the handlers expand them, as in AWS). */
function rawDocument(path: string | undefined): unknown {
  return path ? (parseYaml(readFileSync(path, 'utf8')) ?? {}) : {};
}

function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => () => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolve(signal);
    };
    const onInt = on('SIGINT');
    const onTerm = on('SIGTERM');
    process.once('SIGINT', onInt);
    process.once('SIGTERM', onTerm);
  });
}

type SandboxFlags = Record<string, string | boolean | undefined>;

/** The flags, or the exit code when they are wrong or `--help` was asked for. */
function sandboxFlags(argv: string[], io: CliIo): SandboxFlags | number {
  const extensionFlags = Object.assign({}, ...SANDBOX_EXTENSIONS.map((e) => e.flags));
  let values: SandboxFlags;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        'sqs-port': { type: 'string' },
        'dynamodb-port': { type: 'string' },
        'visibility-timeout': { type: 'string' },
        'max-receive-count': { type: 'string' },
        metrics: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...extensionFlags,
      },
      strict: true,
    }) as { values: SandboxFlags });
  } catch (error) {
    io.stderr.write(`pmta-bounce sandbox: ${(error as Error).message}\n${SANDBOX_HELP}\n`);
    return ExitCode.usage;
  }
  if (!values.help) return values;
  io.stdout.write(`${SANDBOX_HELP}\n`);
  return ExitCode.ok;
}

/**
 * Extensions that rewrite the configuration (e.g. --fake-providers) run before it is validated;
 * returns the document to run with (undefined: the file as written) and what to stop afterwards.
 */
async function prepareExtensions(
  values: SandboxFlags,
  io: CliIo,
  log: (line: string) => void,
  prepared: PreparedExtension[],
): Promise<{ document: unknown } | undefined> {
  let rewritten: { document: unknown } | undefined;
  const document = (): unknown =>
    rewritten
      ? rewritten.document
      : rawDocument(resolveConfigPath(values.config as string | undefined, io.env));
  for (const e of SANDBOX_EXTENSIONS) {
    const print = (line: string) => io.stdout.write(`${line}\n`);
    const p = await e.prepare?.(values, { document, env: io.env, print, log });
    if (!p) continue;
    prepared.push(p);
    rewritten = { document: p.document };
  }
  return rewritten;
}

/** Validates the whole configuration (and that every ${NAME} is set), then starts the sandbox. */
function startFromFlags(
  values: SandboxFlags,
  io: CliIo,
  rewritten: { document: unknown } | undefined,
  log: (line: string) => void,
): Promise<Sandbox> {
  const str = (k: string) => values[k] as string | undefined;
  const { path } = loadConfigFile(str('config'), io.env);
  return startSandbox({
    configDocument: rewritten ? rewritten.document : rawDocument(path),
    env: io.env,
    sqsPort: port(str('sqs-port'), DEFAULT_SQS_PORT, '--sqs-port'),
    dynamodbPort: port(str('dynamodb-port'), DEFAULT_DYNAMODB_PORT, '--dynamodb-port'),
    visibilityTimeoutSeconds: positive(str('visibility-timeout'), 30, '--visibility-timeout'),
    maxReceiveCount: positive(str('max-receive-count'), 5, '--max-receive-count'),
    metrics: values.metrics === true,
    // A core of their own for the emulators: the sandbox is several times faster on 2+ cores.
    emulatorProcesses: true,
    extraPollers: SANDBOX_EXTENSIONS.map(
      (e) =>
        (context): SandboxPoller =>
          e.create(values, context, log) ?? { start() {}, stop: async () => {} },
    ),
    onError: (source, error) =>
      log(`sandbox ${source}: ${error instanceof Error ? error.message : String(error)}`),
  });
}

/** Where to point pmta-shipper, and how to redrive. */
function printEndpoints(io: CliIo, c: Sandbox['context']): void {
  io.stdout.write(
    [
      `records queue: ${c.records.url}`,
      `endpoint:      ${c.sqsEndpoint}`,
      `actions queue: ${c.actions.url} (DLQ ${c.actions.dlqUrl})`,
      `dynamodb:      ${c.dynamodbEndpoint} table ${c.table}`,
      'ship accounting lines with:',
      `  AWS_ACCESS_KEY_ID=sandbox AWS_SECRET_ACCESS_KEY=sandbox pmta-shipper --queue-url ${c.records.url} --endpoint-url ${c.sqsEndpoint} --region ${c.region}`,
      'redrive the actions DLQ with:',
      `  pmta-bounce redrive --endpoint-url ${c.sqsEndpoint}`,
      'running; Ctrl-C stops',
      '',
    ].join('\n'),
  );
}

async function sandboxCommand(argv: string[], io: CliIo = processIo()): Promise<number> {
  const values = sandboxFlags(argv, io);
  if (typeof values === 'number') return values;
  const log = (line: string) => io.stderr.write(`${line}\n`);
  const prepared: PreparedExtension[] = [];
  const stopPrepared = async (): Promise<void> => {
    for (const p of prepared.reverse()) await p.stop();
  };
  try {
    await checkEmulatorsInstalled();
  } catch (error) {
    io.stderr.write(`pmta-bounce sandbox: ${(error as Error).message}\n`);
    return ExitCode.usage;
  }
  let sandbox: Sandbox;
  try {
    const rewritten = await prepareExtensions(values, io, log, prepared);
    sandbox = await startFromFlags(values, io, rewritten, log);
  } catch (error) {
    await stopPrepared();
    throw error;
  }
  printEndpoints(io, sandbox.context);
  const signal = await waitForSignal();
  log(`sandbox: ${signal}, stopping`);
  await sandbox.stop();
  await stopPrepared();
  const s = { ingest: sandbox.ingest.stats, act: sandbox.act.stats };
  io.stdout.write(
    `sandbox stopped: ingest ${s.ingest.deleted} messages done, ${s.ingest.failed} failed; act ${s.act.deleted} done, ${s.act.failed} failed\n`,
  );
  return ExitCode.ok;
}

async function redriveCommand(argv: string[], io: CliIo = processIo()): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'endpoint-url': { type: 'string' },
        queue: { type: 'string' },
        region: { type: 'string' },
        max: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (error) {
    io.stderr.write(`pmta-bounce redrive: ${(error as Error).message}\n${REDRIVE_HELP}\n`);
    return ExitCode.usage;
  }
  if (values.help) {
    io.stdout.write(`${REDRIVE_HELP}\n`);
    return ExitCode.ok;
  }
  const endpoint = (values['endpoint-url'] as string | undefined) ?? `http://127.0.0.1:${DEFAULT_SQS_PORT}`;
  const queue = (values.queue as string | undefined) ?? 'actions';
  const name =
    queue === 'actions'
      ? SANDBOX_NAMES.actionsQueue
      : queue === 'records'
        ? SANDBOX_NAMES.recordsQueue
        : queue;
  const sqs = new SQSClient({
    region: (values.region as string | undefined) ?? SANDBOX_REGION,
    endpoint,
    credentials: SANDBOX_CREDENTIALS,
  });
  try {
    const url = async (queueName: string) =>
      (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl as string;
    const result = await redriveQueue({
      sqs,
      dlqUrl: await url(`${name}${SANDBOX_NAMES.dlqSuffix}`),
      targetUrl: await url(name),
      maxMessages: positive(values.max as string | undefined, 100_000, '--max'),
    });
    io.stdout.write(
      `redrive ${name}${SANDBOX_NAMES.dlqSuffix} → ${name}: ${result.moved} moved, ${result.failed} left\n`,
    );
    return result.failed > 0 ? ExitCode.actionsFailed : ExitCode.ok;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    io.stderr.write(`pmta-bounce redrive: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.usage;
  } finally {
    sqs.destroy();
  }
}

export { redriveCommand, sandboxCommand };
