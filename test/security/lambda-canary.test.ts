/**
 * The act function's handler module, wired from its environment as in AWS: `${NAME}`s come from a
 * Secrets Manager secret (a fake on 127.0.0.1) whose every value is the canary, and the providers
 * accept it, refuse it, or fail with 5xx. Everything the function prints (Powertools logs, EMF
 * metrics, anything else on stdout/stderr or the console) and what it returns holds no canary.
 */
import { ReceiveMessageCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import type { Action } from '#core/act/action.ts';
import { ENV } from '#lambda/env.ts';
import { TUNING_ENV } from '#lambda/wiring.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';
import {
  FAKE_SECRET_ARN,
  type FakeSecretsManager,
  startFakeSecretsManager,
} from '#test/support/fake-secrets-manager.ts';
import { type SqsServer, startSqsServer } from '#test/support/sqs-server.ts';
import { CANARY, expectNoCanary, safeJson } from './canary.ts';

const SECRET_ARN = FAKE_SECRET_ARN;
const EMAIL = 'gone@example.com';

let sqsServer: SqsServer;
let sqs: SQSClient;
let dynamo: DynamoDbLocal;
let secrets: FakeSecretsManager;
let mailwizz: FakeMailwizzServer;
let interspire: FakeInterspireServer;
let webhook: FakeWebhookServer;

beforeAll(async () => {
  [sqsServer, dynamo, secrets, mailwizz, interspire, webhook] = await Promise.all([
    startSqsServer(),
    startDynamoDbLocal(),
    startFakeSecretsManager({ MW_KEY: CANARY, IEM_TOKEN: CANARY, HOOK_SECRET: CANARY }),
    FakeMailwizzServer.start({ mode: 'v2', apiKey: CANARY }),
    FakeInterspireServer.start({ username: 'admin', token: 'OtherKey0000000000000000000000' }),
    FakeWebhookServer.start({ secret: `whsec_${CANARY}` }),
  ]);
  sqs = sqsServer.client();
  mailwizz.addSubscriber(mailwizz.addList(), EMAIL);
  webhook.http.inject({ status: 503, times: 1000 });
});
afterAll(async () => {
  await Promise.all([
    sqsServer?.stop(),
    dynamo?.stop(),
    secrets?.close(),
    mailwizz?.close(),
    interspire?.close(),
    webhook?.close(),
  ]);
});

/** Everything written to stdout, stderr and the console while `run` runs (not passed through). */
async function captureOutput<T>(run: () => Promise<T>): Promise<{ value: T; output: string }> {
  const chunks: string[] = [];
  const keep = (chunk: unknown): boolean => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation(keep),
    vi.spyOn(process.stderr, 'write').mockImplementation(keep),
    ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      vi
        .spyOn(console, m)
        .mockImplementation((...args: unknown[]) => void keep(`${args.map((a) => safeJson(a)).join(' ')}\n`)),
    ),
  ];
  try {
    const value = await run();
    return { value, output: chunks.join('') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

describe('act function with the canary in its Secrets Manager secret', () => {
  it('logs, EMF metrics and the batch response hold no credential', async () => {
    const table = await dynamo.newTable();
    const queueUrl = await sqsServer.createQueue('actions-canary');
    const store = new DynamoDbSuppressionStore({ client: dynamo.documents, table });
    const providers = ['mw', 'iem', 'hook'];
    await store.suppress([
      { subject: EMAIL, kind: 'bounce', reason: 'hard', recordKey: 'k1', at: Date.now(), providers },
    ]);
    const action: Action = {
      v: 1,
      id: EMAIL,
      subject: EMAIL,
      target: { type: 'email', address: EMAIL },
      kind: 'bounce',
      reason: 'category=bad-mailbox bounceCat: hard bounce',
      occurredAt: Date.now() - 1000,
      providers,
    };
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(action) }));
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, AttributeNames: ['All'] }),
    );
    const message = received.Messages?.[0];
    expect(message).toBeDefined();
    const record: SQSRecord = {
      messageId: message!.MessageId!,
      receiptHandle: message!.ReceiptHandle!,
      body: message!.Body!,
      attributes: {
        ApproximateReceiveCount: '1',
        SentTimestamp: String(Date.now()),
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: message!.MD5OfBody ?? '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:actions-canary',
      awsRegion: 'us-east-1',
    };

    const env: Record<string, string> = {
      [ENV.CONFIG_JSON]: JSON.stringify({
        providers: [
          { id: 'mw', type: 'mailwizz', url: mailwizz.url, apiKey: '${MW_KEY}', maxRetries: 1 },
          { id: 'iem', type: 'interspire', url: interspire.url, username: 'admin', token: '${IEM_TOKEN}' },
          { id: 'hook', type: 'webhook', url: webhook.url, secret: 'whsec_${HOOK_SECRET}', maxRetries: 1 },
        ],
      }),
      [ENV.SECRET_ARN]: SECRET_ARN,
      [ENV.TABLE_NAME]: table,
      [ENV.SQS_ENDPOINT]: sqsServer.endpoint,
      [ENV.DYNAMODB_ENDPOINT]: dynamo.server.endpoint,
      [TUNING_ENV.RETRY_BASE_SECONDS]: '1',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      // Everything the function can say, metrics included.
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      POWERTOOLS_METRICS_DISABLED: 'false',
      POWERTOOLS_METRICS_NAMESPACE: 'PmtaBounceTest',
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    try {
      const { value, output } = await captureOutput(async () => {
        vi.resetModules();
        const { handler } = await import('#lambda/act/handler.ts');
        const context = { awsRequestId: 'req-canary', functionName: 'act' } as Context;
        return handler({ Records: [record] } as SQSEvent, context);
      });
      expect(secrets.calls()).toBe(1);
      expect(mailwizz.http.totalRequests()).toBeGreaterThan(0);
      // Interspire refused the token and the webhook kept failing: the message goes back.
      expect(value).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
      // The function did speak: provider calls and failures logged, metrics in EMF.
      expect(output).toContain('provider call');
      expect(output).toMatch(/provider (error|retry)/);
      expect(output).toContain('provider call failed; retrying later');
      expect(output).toContain('_aws');
      // One blob per dimension set and a quiet cold-start object: no Powertools warning lines.
      expect(output).not.toContain('No application metrics');
      const status = await store.status(EMAIL);
      expectNoCanary({ output, response: value, state: status });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
