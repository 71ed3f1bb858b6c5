/**
 * unsub-http (the one-click endpoint in AWS) with real parts: DynamoDB through dynalite, the actions
 * queue through fauxqs, a Function URL event as Lambda delivers it. It writes the state item and
 * enqueues the action (act calls the providers); a repeat enqueues nothing; GET/HEAD and bad tokens
 * change nothing.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { LambdaFunctionURLEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { aes256GcmCipher } from '#adapters/crypto/aes-256-gcm.ts';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { createDynamoDbRateCounter } from '#adapters/dynamodb/dynamodb-rate-counter.ts';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import { createSqsActionSender } from '#adapters/sqs/sqs-action-queue.ts';
import type { Action } from '#core/act/action.ts';
import { createRouter } from '#core/decide/routing.ts';
import { sealAddressToken } from '#core/unsubscribe/one-click-token.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';
import { handleOneClickHttp, type OneClickHttpDeps } from '#lambda/unsub-http/unsub-http.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';
import { drainActions, type SqsServer, startSqsServer } from '#test/support/sqs-server.ts';

const KEY = { id: 'k1', secret: 'h'.repeat(48) };
const NOW = 1_800_000_000_000;
const ids = { subscriberId: 'ab12cd34ef567', listId: 'lq981kz0aa2bc', campaignId: 'cmp00000000zz' };
const TOKEN = signUnsubscribeToken(ids, KEY, hmacSha256);

let sqsServer: SqsServer;
let sqs: SQSClient;
let dynamo: DynamoDbLocal;
beforeAll(async () => {
  [sqsServer, dynamo] = await Promise.all([startSqsServer(), startDynamoDbLocal()]);
  sqs = sqsServer.client();
});
afterAll(async () => {
  await Promise.all([sqsServer?.stop(), dynamo?.stop()]);
});

function event(method: string, path: string, body?: string, ip = '198.51.100.7'): LambdaFunctionURLEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: body === undefined ? {} : { 'content-type': 'application/x-www-form-urlencoded' },
    requestContext: { http: { method, path, protocol: 'HTTP/1.1', sourceIp: ip, userAgent: 'test' } },
    body,
    isBase64Encoded: false,
  } as unknown as LambdaFunctionURLEvent;
}

const drain = (queueUrl: string): Promise<Action[]> => drainActions(sqs, queueUrl);

let n = 0;
async function setup(perClient = 100) {
  n += 1;
  const queueUrl = await sqsServer.createQueue(`one-click-${n}`);
  const table = await dynamo.newTable();
  const metrics = createMemoryMetricSink();
  const logs: string[] = [];
  const log = {
    info: (m: string, e?: object) => logs.push(`${m} ${JSON.stringify(e)}`),
    warn: () => {},
    error: () => {},
  };
  const deps: OneClickHttpDeps = {
    settings: {
      keys: [KEY],
      hmac: hmacSha256,
      cipher: aes256GcmCipher,
      listNames: { '*': 'the Weekly' },
      router: createRouter([{ id: 'mw', type: 'mailwizz' }]),
      scope: 'list',
    },
    limits: { windowMs: 60_000, perClient, global: 100_000 },
    store: new DynamoDbSuppressionStore({ client: dynamo.documents, table, now: () => NOW }),
    rateCounter: createDynamoDbRateCounter(dynamo.documents, table),
    actions: createSqsActionSender(sqs, queueUrl),
    metrics,
    log,
    now: () => NOW,
  };
  return { deps, queueUrl, metrics, logs };
}

describe('unsub-http', () => {
  it('POST one-click: state item + one action on the queue (with requestedAt); a repeat: 200, no action', async () => {
    const t = await setup();
    const first = await handleOneClickHttp(
      event('POST', `/u/${TOKEN}`, 'List-Unsubscribe=One-Click'),
      t.deps,
    );
    expect(first.statusCode).toBe(200);
    const actions = await drain(t.queueUrl);
    expect(actions).toMatchObject([
      {
        subject: `ref:mailwizz:${ids.listId}:${ids.subscriberId}`,
        providers: ['mw'],
        requestedAt: NOW,
        kind: 'unsubscribe',
      },
    ]);
    const status = await t.deps.store.status(`ref:mailwizz:${ids.listId}:${ids.subscriberId}`);
    expect(status.suppressed).toBeDefined();
    // act has not run: the state says pending, so a repeat sends the action again (act is idempotent).
    await t.deps.store.markProvider(actions[0]!.subject, 'mw', 'done');
    const again = await handleOneClickHttp(
      event('POST', `/u/${TOKEN}`, 'List-Unsubscribe=One-Click'),
      t.deps,
    );
    expect(again.statusCode).toBe(200);
    expect(await drain(t.queueUrl)).toEqual([]);
    expect(t.metrics.total('OneClickRequests', { Verdict: 'accepted' })).toBe(2);
  });

  it.each([
    ['GET (a link scanner)', event('GET', `/u/${TOKEN}`), 200],
    ['HEAD', event('HEAD', `/u/${TOKEN}`), 200],
    ['POST without the field', event('POST', `/u/${TOKEN}`, 'x=1'), 400],
    [
      'a tampered tag',
      event(
        'POST',
        `/u/${TOKEN.slice(0, -1)}${TOKEN.endsWith('a') ? 'b' : 'a'}`,
        'List-Unsubscribe=One-Click',
      ),
      403,
    ],
    ['malformed', event('POST', '/u/nope', 'List-Unsubscribe=One-Click'), 400],
  ])('%s changes nothing', async (_name, request, status) => {
    const t = await setup();
    const res = await handleOneClickHttp(request, t.deps);
    expect(res.statusCode).toBe(status);
    expect(await drain(t.queueUrl)).toEqual([]);
    expect(
      (await t.deps.store.status(`ref:mailwizz:${ids.listId}:${ids.subscriberId}`)).suppressed,
    ).toBeUndefined();
  });

  it('a sealed address: unsubscribed by address, which is not logged', async () => {
    const t = await setup();
    const token = sealAddressToken('someone@example.com', KEY, aes256GcmCipher);
    expect(
      (await handleOneClickHttp(event('POST', `/u/${token}`, 'List-Unsubscribe=One-Click'), t.deps))
        .statusCode,
    ).toBe(200);
    expect(await drain(t.queueUrl)).toMatchObject([
      { target: { type: 'email', address: 'someone@example.com' } },
    ]);
    expect(t.logs.join('\n')).not.toContain('someone@');
  });

  it('over the per-client limit: 429 with Retry-After (counted in DynamoDB, shared by every instance)', async () => {
    const t = await setup(3);
    const codes: Array<number | undefined> = [];
    for (let i = 0; i < 5; i += 1)
      codes.push((await handleOneClickHttp(event('GET', `/u/${TOKEN}`), t.deps)).statusCode);
    expect(codes).toEqual([200, 200, 200, 429, 429]);
    const limited = await handleOneClickHttp(event('GET', `/u/${TOKEN}`), t.deps);
    expect(Number(limited.headers?.['retry-after'])).toBeGreaterThan(0);
    expect(
      (await handleOneClickHttp(event('GET', `/u/${TOKEN}`, undefined, '198.51.100.8'), t.deps)).statusCode,
    ).toBe(200);
  });
});
