/**
 * The shared fixture of the cloud-path tests: a fake MailWizz, the sandbox (fauxqs, dynalite and
 * the real handler modules, functions/sandbox/runtime.ts) configured with it, a DynamoDB document
 * client on the sandbox's table, envelopes shipped as pmta-shipper encodes them, and bounded waits
 * that report what the sandbox logged as errors. One per test file: the handler modules read
 * their environment once.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { type Sandbox, type SandboxOptions, startSandbox } from '#sandbox/runtime.ts';
import type { EncodedMessage } from '../../shipper/message/message-types.ts';
import { ACCT_HEADER } from './builders.ts';
import { envelopeEncoder, queueDepth, sendEnvelope } from './sandbox-records.ts';
import { waitFor } from './wait.ts';

interface CloudSandboxOptions {
  /** The MailWizz API key, read by the handlers from this environment variable (`${NAME}`). */
  keyEnv: string;
  apiKey: string;
  /** More configuration (policy, notify, unsubscribe). */
  config?: Record<string, unknown>;
  /** Shorter than AWS: retries after one second, redelivery after one. */
  tuning?: Pick<SandboxOptions, 'maxReceiveCount' | 'retryBaseSeconds' | 'retryMaxSeconds'>;
  extraPollers?: SandboxOptions['extraPollers'];
  /** The envelope stream name of this file's messages. */
  stream?: string;
  /** More to say when a wait times out. */
  diagnostics?: () => string;
}

interface CloudSandbox {
  fake: FakeMailwizzServer;
  sandbox: Sandbox;
  documents: DynamoDBDocumentClient;
  /** What the sandbox's event sources reported. */
  errors: string[];
  encode(lines: string[], header?: string): Promise<EncodedMessage>;
  send(message: EncodedMessage): Promise<void>;
  /** Encodes and sends one envelope to the records queue. */
  ship(lines: string[], header?: string): Promise<void>;
  queueDepth(url: string): Promise<number>;
  /** Both queues empty and nothing in flight. */
  settled(): Promise<boolean>;
  /** Polls every 50 ms for at most `ms` (15 s); throws naming what it waited for. */
  until(what: string, check: () => boolean | Promise<boolean>, ms?: number): Promise<void>;
  stop(): Promise<void>;
}

async function startCloudSandbox(options: CloudSandboxOptions): Promise<CloudSandbox> {
  const fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: options.apiKey });
  process.env[options.keyEnv] = options.apiKey;
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const errors: string[] = [];
  const provider = { id: 'mw', type: 'mailwizz', url: fake.url, apiKey: `\${${options.keyEnv}}` };
  const sandbox = await startSandbox({
    configDocument: { providers: [{ ...provider, maxRetries: 0, timeoutMs: 2000 }], ...options.config },
    visibilityTimeoutSeconds: 1,
    ...options.tuning,
    ...(options.extraPollers ? { extraPollers: options.extraPollers } : {}),
    onError: (source, error) =>
      errors.push(`${source}: ${error instanceof Error ? error.message : String(error)}`),
  });
  const { context } = sandbox;
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      region: 'us-east-1',
      endpoint: context.dynamodbEndpoint,
      credentials: { accessKeyId: 't', secretAccessKey: 't' },
    }),
  );
  const encoder = envelopeEncoder(options.stream ?? 'it-stream');
  const depth = (url: string) => queueDepth(context.sqs, url);
  const fixture: CloudSandbox = {
    fake,
    sandbox,
    documents,
    errors,
    encode: (lines, header = ACCT_HEADER) => encoder(lines, header),
    send: (message) => sendEnvelope(context.sqs, context.records.url, message),
    ship: async (lines, header) => fixture.send(await fixture.encode(lines, header)),
    queueDepth: depth,
    settled: async () => (await depth(context.records.url)) === 0 && (await depth(context.actions.url)) === 0,
    async until(what, check, ms = 15_000) {
      if (await waitFor(check, ms, 50)) return;
      const more = options.diagnostics ? `; ${options.diagnostics()}` : '';
      throw new Error(`timed out waiting for ${what}; sandbox errors: ${errors.join(' | ')}${more}`);
    },
    async stop() {
      await sandbox.stop();
      documents.destroy();
      await fake.close();
    },
  };
  return fixture;
}

export type { CloudSandbox, CloudSandboxOptions };
export { startCloudSandbox };
