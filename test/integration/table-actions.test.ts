/**
 * The stack grants each function exactly the DynamoDB actions of TABLE_ACTIONS (functions/lambda/
 * env.ts; test/infra asserts the grants). This proves the list is enough: every function, wired
 * from its environment as in AWS, runs its paths (ingest: hard and soft bounces, a complaint with
 * notices, a malformed record; act: an action done, then replayed; unsub: an SES mail; notify: a
 * digest) against dynalite through a proxy that records each request's X-Amz-Target, and calls
 * nothing outside its list. A function that starts calling a new action fails here until the list
 * (and so the grant) names it.
 */
import { readFileSync } from 'node:fs';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SESEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CONTENT_ENCODING_ATTRIBUTE } from '#core/envelope/envelope.ts';
import { runActionsBatch } from '#lambda/act/act.ts';
import { ENV, TABLE_ACTIONS } from '#lambda/env.ts';
import { ingestAccountingBatch } from '#lambda/ingest/ingest.ts';
import { sendPostmasterDigests } from '#lambda/notify/notify.ts';
import { handleInboundUnsubscribeEvent } from '#lambda/unsub/unsub.ts';
import {
  createActWiring,
  createIngestWiring,
  createNotifyWiring,
  createUnsubWiring,
  NOTIFY_ENV,
} from '#lambda/wiring.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { type FakeSesV2Server, startFakeSesV2Server } from '#sandbox/fakes/fake-sesv2-server.ts';
import { ACCT_HEADER, hardBounceAction } from '#test/support/builders.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';
import { envelopeEncoder } from '#test/support/sandbox-records.ts';
import { type SqsServer, sqsEventRecord, startSqsServer } from '#test/support/sqs-server.ts';

const MW_KEY = 'table-actions-mw-key-0123';

/** An action message for `address` (functions/core/act/action.ts), routed to the MailWizz fake. */
function bounceAction(address: string, fields: Record<string, unknown> = {}): string {
  return JSON.stringify(hardBounceAction(address, { providers: ['mw'], ...fields }));
}
const SES_FIXTURE = readFileSync(new URL('../fixtures/ses/unsubscribe-pass.json', import.meta.url), 'utf8');

/** Forwards to dynalite and records the DynamoDB action of every request. */
function startRecordingProxy(
  target: string,
): Promise<{ server: Server; endpoint: string; seen: Set<string> }> {
  const seen = new Set<string>();
  const to = new URL(target);
  const server = createServer((req, res) => {
    const action = String(req.headers['x-amz-target'] ?? '').split('.')[1];
    if (action) seen.add(action);
    const upstream = httpRequest(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen }),
    ),
  );
}

let dynamo: DynamoDbLocal;
let proxy: Awaited<ReturnType<typeof startRecordingProxy>>;
let sqs: SqsServer;
let mailwizz: FakeMailwizzServer;
let ses: FakeSesV2Server;
let env: Record<string, string>;

beforeAll(async () => {
  [dynamo, sqs, mailwizz, ses] = await Promise.all([
    startDynamoDbLocal(),
    startSqsServer(),
    FakeMailwizzServer.start({ mode: 'v2', apiKey: MW_KEY }),
    startFakeSesV2Server(),
  ]);
  proxy = await startRecordingProxy(dynamo.server.endpoint);
  mailwizz.addSubscriber(mailwizz.addList(), 'hard@example.org');
  env = {
    [ENV.CONFIG_JSON]: JSON.stringify({
      providers: [{ id: 'mw', type: 'mailwizz', url: mailwizz.url, apiKey: '${MW_KEY}', maxRetries: 0 }],
      policy: { complaints: 'unsubscribe', soft: { threshold: 2 } },
      unsubscribe: { domains: ['unsub.example.com'] },
      notify: { to: 'postmaster@example.com', from: 'bounces@example.com', digestMinutes: 5 },
    }),
    [ENV.TABLE_NAME]: await dynamo.newTable(),
    [ENV.ACTIONS_QUEUE_URL]: await sqs.createQueue('table-actions'),
    [ENV.DYNAMODB_ENDPOINT]: proxy.endpoint,
    [ENV.SQS_ENDPOINT]: sqs.endpoint,
    [NOTIFY_ENV.SES_ENDPOINT]: ses.endpoint,
    MW_KEY, // the sandbox reads ${NAME} from the environment (no secret ARN set)
    AWS_REGION: 'us-east-1',
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await new Promise((r) => proxy?.server.close(r));
  await Promise.all([dynamo?.stop(), sqs?.stop(), mailwizz?.close(), ses?.close()]);
});

const sqsRecord = (body: string, id: string, attributes: Record<string, string> = {}): SQSRecord =>
  sqsEventRecord(body, id, attributes, 'table-actions');

/** A record of the ACCT_HEADER layout. */
function line(type: string, rcpt: string, category: string, extra: { feedbackType?: string } = {}): string {
  const fields: Record<string, string> = {
    type,
    timeLogged: '2026-11-20 10:00:00+0000',
    orig: 'news@example.com',
    rcpt,
    dsnStatus:
      category === 'quota-issues' ? '4.2.2 (mailbox full)' : '5.1.1 (bad destination mailbox address)',
    dsnDiag: 'smtp;550 no such user',
    bounceCat: category,
    ...(extra.feedbackType ? { feedbackType: extra.feedbackType } : {}),
  };
  return ACCT_HEADER.split(',')
    .map((name) => fields[name] ?? '')
    .join(',');
}

async function used(run: () => Promise<unknown>): Promise<string[]> {
  proxy.seen.clear();
  await run();
  if (process.env.TABLE_ACTIONS_DEBUG) console.log([...proxy.seen].sort());
  return [...proxy.seen].sort();
}

describe('each function calls only the DynamoDB actions it is granted', () => {
  it('ingest', async () => {
    const encode = envelopeEncoder('table-actions');
    const message = await encode(
      [
        line('b', 'hard@example.org', 'bad-mailbox'),
        line('b', 'soft@example.org', 'quota-issues'),
        line('f', 'complainer@example.org', '', { feedbackType: 'abuse' }),
        'b,not,a,valid,record',
      ],
      ACCT_HEADER,
    );
    const attributes: Record<string, string> = message.encoding
      ? { [CONTENT_ENCODING_ATTRIBUTE]: String(message.encoding) }
      : {};
    const wiring = createIngestWiring(env);
    const actions = await used(async () => {
      const [out] = await ingestAccountingBatch(
        { Records: [sqsRecord(message.body.toString(), 'i1', attributes)] },
        await wiring.deps(),
      );
      expect(out).toMatchObject({ status: 'fulfilled', value: { records: 4, rejects: 1 } });
    });
    expect(actions.length).toBeGreaterThan(2);
    expect(actions.filter((a) => !(TABLE_ACTIONS.ingest as readonly string[]).includes(a))).toEqual([]);
  });

  it('act', async () => {
    const body = bounceAction('hard@example.org');
    const wiring = createActWiring(env);
    const actions = await used(async () => {
      for (const id of ['a1', 'a2']) {
        const [out] = await runActionsBatch({ Records: [sqsRecord(body, id)] }, await wiring.deps());
        expect(out?.status).toBe('fulfilled');
      }
    });
    expect(actions.filter((a) => !(TABLE_ACTIONS.act as readonly string[]).includes(a))).toEqual([]);
    expect(actions).toContain('UpdateItem');
  });

  it('act: an undo action (its own claim slot), and an unsubscribe whose suppression was forgotten', async () => {
    const undo = bounceAction('hard@example.org', {
      id: 'undo:hard@example.org:1764000000000',
      kind: 'manual',
      reason: 'undo by operator',
      undo: { lists: { mw: [{ listId: mailwizz.subscribers[0]!.listUid, previousStatus: 'confirmed' }] } },
    });
    const forgotten = bounceAction('never@example.org');
    const wiring = createActWiring(env);
    const actions = await used(async () => {
      const out = await runActionsBatch(
        { Records: [sqsRecord(undo, 'u1'), sqsRecord(forgotten, 'u2')] },
        await wiring.deps(),
      );
      expect(out.map((o) => (o.status === 'fulfilled' ? o.value.outcome : o.reason))).toEqual([
        'done',
        'forgotten',
      ]);
    });
    expect(actions.filter((a) => !(TABLE_ACTIONS.act as readonly string[]).includes(a))).toEqual([]);
    expect(actions).toEqual(expect.arrayContaining(['GetItem', 'UpdateItem']));
  });

  it('unsub', async () => {
    const wiring = createUnsubWiring(env);
    const actions = await used(async () =>
      handleInboundUnsubscribeEvent(JSON.parse(SES_FIXTURE) as SESEvent, await wiring.deps()),
    );
    expect(actions.length).toBeGreaterThan(0);
    expect(actions.filter((a) => !(TABLE_ACTIONS.unsub as readonly string[]).includes(a))).toEqual([]);
  });

  it('notify', async () => {
    const wiring = createNotifyWiring(env);
    const actions = await used(async () => sendPostmasterDigests(await wiring.deps()));
    expect(ses.sent.length).toBeGreaterThan(0); // the complaint's notice went out, then was removed
    expect(actions.filter((a) => !(TABLE_ACTIONS.notify as readonly string[]).includes(a))).toEqual([]);
    expect(actions).toContain('BatchWriteItem');
  });
});
