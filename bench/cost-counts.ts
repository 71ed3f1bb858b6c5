/**
 * The AWS request counts behind docs/cost.md, measured in a bounded sandbox run: the real shipper
 * (bin/pmta-shipper.js) → fauxqs → the real ingest handler → dynalite → actions queue → the real
 * act handler → a webhook provider fake. Counting HTTP proxies on 127.0.0.1 sit in front of fauxqs
 * and dynalite and count every request by API action (SQS: also 64 KiB billing chunks; DynamoDB:
 * write and read request units estimated from item sizes, as on-demand bills them). The handlers
 * are wrapped to count invocations and time them. Two phases: N hard bounces to distinct
 * addresses, then N complaints to distinct addresses.
 *
 *   node --import tsx bench/cost-counts.ts [--records 2000]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSEvent } from 'aws-lambda';
import { createBounceTable } from '#adapters/dynamodb/dynamodb-table.ts';
import { ENV, HANDLER_ENTRIES } from '#lambda/env.ts';
import { TUNING_ENV } from '#lambda/wiring.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { startDynalite } from '#sandbox/servers.ts';
import { createSqsEventSource, type SqsHandler } from '#sandbox/sqs-event-source.ts';
import { ACCT_HEADER, bounceRecord, pmtaTime } from '../test/support/builders.ts';
import { startSqsServer } from '../test/support/sqs-server.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ROOT = join(import.meta.dirname, '..');
const RUN_LIMIT_MS = 20 * 60_000;
const { values } = parseArgs({ options: { records: { type: 'string', default: '2000' } } });
const N = Number(values.records);

type Counts = Record<string, number>;

/** An HTTP proxy that counts requests per `x-amz-target` action and lets `measure` add more. */
async function countingProxy(
  target: string,
  measure: (action: string, requestBody: string, responseBody: string, counts: Counts) => void,
): Promise<{ endpoint: string; counts: Counts; close: () => Promise<void> }> {
  const upstream = new URL(target);
  const counts: Counts = {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action =
        String(req.headers['x-amz-target'] ?? 'none')
          .split('.')
          .pop() ?? 'none';
      const up = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          path: req.url,
          method: req.method,
          headers: { ...req.headers, host: upstream.host },
        },
        (response) => {
          const out: Buffer[] = [];
          response.on('data', (c: Buffer) => out.push(c));
          response.on('end', () => {
            const payload = Buffer.concat(out);
            counts[action] = (counts[action] ?? 0) + 1;
            measure(action, body.toString('utf8'), payload.toString('utf8'), counts);
            res.writeHead(response.statusCode ?? 502, response.headers);
            res.end(payload);
          });
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

const add = (counts: Counts, key: string, n: number) => {
  counts[key] = (counts[key] ?? 0) + n;
};

/** SQS bills each 64 KiB chunk of a request's payload as one request. */
function measureSqs(action: string, req: string, res: string, counts: Counts): void {
  const chunks = (bytes: number) => Math.max(1, Math.ceil(bytes / 65_536));
  if (action === 'ReceiveMessage') {
    const messages = (JSON.parse(res || '{}') as { Messages?: unknown[] }).Messages?.length ?? 0;
    add(counts, messages > 0 ? 'ReceiveMessage(non-empty)' : 'ReceiveMessage(empty)', 1);
    add(counts, 'messagesReceived', messages);
    if (messages > 0) add(counts, 'billable', chunks(Buffer.byteLength(res)));
    return;
  }
  if (action === 'SendMessageBatch') {
    add(counts, 'messagesSent', (JSON.parse(req) as { Entries: unknown[] }).Entries.length);
  }
  if (action === 'SendMessage') add(counts, 'messagesSent', 1);
  if (action === 'GetQueueAttributes' || action === 'CreateQueue') return;
  add(counts, 'billable', chunks(Buffer.byteLength(req)));
}

/** On-demand: 1 WRU per KiB written per item; 1 RRU per 4 KiB read (strongly consistent). */
function measureDynamo(action: string, req: string, res: string, counts: Counts): void {
  const kib = (s: string, unit: number) => Math.max(1, Math.ceil(Buffer.byteLength(s) / unit));
  const body = JSON.parse(req || '{}') as Record<string, unknown>;
  switch (action) {
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
      add(counts, 'WRU', kib(JSON.stringify(body.Item ?? body.Key ?? {}), 1024));
      if (action === 'UpdateItem' && /"ReturnValues":"ALL_NEW"|ALL_OLD|UPDATED/.test(req))
        add(counts, 'returnsValues', 1);
      break;
    case 'BatchWriteItem': {
      const requests = Object.values(
        body.RequestItems as Record<string, Array<Record<string, unknown>>>,
      ).flat();
      for (const r of requests) add(counts, 'WRU', kib(JSON.stringify(r), 1024));
      add(counts, 'itemsWritten(batch)', requests.length);
      break;
    }
    case 'GetItem':
      add(
        counts,
        'RRU',
        kib(JSON.stringify((JSON.parse(res || '{}') as { Item?: unknown }).Item ?? {}), 4096),
      );
      break;
    case 'Query':
    case 'Scan': {
      const items = (JSON.parse(res || '{}') as { Items?: unknown[] }).Items ?? [];
      add(counts, 'RRU', kib(JSON.stringify(items), 4096));
      break;
    }
    case 'BatchGetItem':
      add(counts, 'RRU', kib(res, 4096));
      break;
    default:
  }
}

const bounceLine = (i: number, now: number): string =>
  bounceRecord({ rcpt: `cost-bounce-${i}@example.net`, at: now, job: 'job-cost', envId: `env-${i}` });

const F_HEADER = 'type,timeLogged,orig,rcpt,feedbackType';
const complaintLine = (i: number, now: number) =>
  `f,${pmtaTime(now)},news@example.com,cost-complaint-${i}@example.net,abuse`;

async function main(): Promise<void> {
  const started = Date.now();
  const sqsServer = await startSqsServer();
  const dynamo = await startDynalite();
  const hook = await FakeWebhookServer.start({
    secret: `whsec_${Buffer.from('cost-bench-webhook-secret-only!!').toString('base64')}`,
  });
  const sqsProxy = await countingProxy(sqsServer.endpoint, measureSqs);
  const dynamoProxy = await countingProxy(dynamo.endpoint, measureDynamo);
  const credentials = { accessKeyId: 'bench', secretAccessKey: 'bench' };
  const sqs = new SQSClient({ region: 'us-east-1', endpoint: sqsProxy.endpoint, credentials });
  const direct = sqsServer.client();
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials });
  await createBounceTable(dynamodb, 'pmta-bounce');
  const pair = async (name: string) => {
    const dlq = (await direct.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl!;
    const dlqArn = (
      await direct.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))
    ).Attributes!.QueueArn!;
    const url = (
      await direct.send(
        new CreateQueueCommand({
          QueueName: name,
          Attributes: {
            VisibilityTimeout: '60',
            RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 5 }),
          },
        }),
      )
    ).QueueUrl!;
    const arn = (
      await direct.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }))
    ).Attributes!.QueueArn!;
    return { url, arn };
  };
  const records = await pair('pmta-bounce-records');
  const actions = await pair('pmta-bounce-actions');
  process.env.COST_BENCH_HOOK_SECRET = hook.options.secret;
  Object.assign(process.env, {
    [ENV.CONFIG_JSON]: JSON.stringify({
      providers: [{ id: 'hook', type: 'webhook', url: hook.url, secret: '${COST_BENCH_HOOK_SECRET}' }],
    }),
    [ENV.TABLE_NAME]: 'pmta-bounce',
    [ENV.ACTIONS_QUEUE_URL]: actions.url,
    [ENV.SQS_ENDPOINT]: sqsProxy.endpoint,
    [ENV.DYNAMODB_ENDPOINT]: dynamoProxy.endpoint,
    [TUNING_ENV.MAX_RECEIVE_COUNT]: '5',
    AWS_REGION: 'us-east-1',
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  delete process.env[ENV.SECRET_ARN];
  const load = async (entry: string) =>
    ((await import(new URL(entry, new URL('../', import.meta.url)).href)) as { handler: SqsHandler }).handler;
  const timing: Record<string, { invocations: number; ms: number; records: number }> = {};
  const timed = (name: string, handler: SqsHandler): SqsHandler => {
    timing[name] = { invocations: 0, ms: 0, records: 0 };
    return async (event: SQSEvent, context: Context) => {
      const t0 = performance.now();
      try {
        return await handler(event, context);
      } finally {
        const t = timing[name]!;
        t.invocations += 1;
        t.records += event.Records.length;
        t.ms += performance.now() - t0;
      }
    };
  };
  const sources = [
    createSqsEventSource({
      sqs,
      queueUrl: records.url,
      queueArn: records.arn,
      functionName: 'ingest',
      concurrency: 2,
      handler: timed('ingest', await load(HANDLER_ENTRIES.ingest)),
    }),
    createSqsEventSource({
      sqs,
      queueUrl: actions.url,
      queueArn: actions.arn,
      functionName: 'act',
      concurrency: 4,
      handler: timed('act', await load(HANDLER_ENTRIES.act)),
    }),
  ];
  for (const s of sources) s.start();

  const depth = async (url: string) => {
    const a = (
      await direct.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
        }),
      )
    ).Attributes!;
    return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible);
  };
  const snapshot = () => ({
    sqs: { ...sqsProxy.counts },
    dynamo: { ...dynamoProxy.counts },
    timing: JSON.parse(JSON.stringify(timing)) as typeof timing,
    calls: hook.http.totalRequests(),
  });
  const diff = (a: Counts, b: Counts) =>
    Object.fromEntries(
      Object.keys(b)
        .map((k) => [k, (b[k] ?? 0) - (a[k] ?? 0)])
        .filter(([, v]) => v !== 0),
    );

  async function phase(name: string, header: string, line: (i: number, now: number) => string) {
    const spool = mkdtempSync(join(tmpdir(), 'cost-bench-'));
    const before = snapshot();
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/pmta-shipper.js'),
        '--queue-url',
        records.url,
        '--endpoint-url',
        sqsProxy.endpoint,
        '--region',
        'us-east-1',
        '--spool-dir',
        spool,
      ],
      {
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { ...process.env, AWS_ACCESS_KEY_ID: 'b', AWS_SECRET_ACCESS_KEY: 'b' },
      },
    );
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const now = Date.now();
    const lines = [header];
    for (let i = 0; i < N; i += 1) lines.push(line(i, now + i));
    child.stdin.end(`${lines.join('\n')}\n`);
    await exited;
    const deadline = Date.now() + RUN_LIMIT_MS;
    while (Date.now() < deadline && hook.http.totalRequests() - before.calls < N)
      await new Promise((r) => setTimeout(r, 500));
    while (Date.now() < deadline && ((await depth(records.url)) > 0 || (await depth(actions.url)) > 0))
      await new Promise((r) => setTimeout(r, 500));
    await new Promise((r) => setTimeout(r, 1500)); // the last deletes
    rmSync(spool, { recursive: true, force: true });
    const after = snapshot();
    const t = (k: string) => ({
      invocations: after.timing[k]!.invocations - before.timing[k]!.invocations,
      records: after.timing[k]!.records - before.timing[k]!.records,
      ms: Math.round(after.timing[k]!.ms - before.timing[k]!.ms),
    });
    console.log(
      JSON.stringify(
        {
          phase: name,
          records: N,
          providerCalls: after.calls - before.calls,
          sqs: diff(before.sqs, after.sqs),
          dynamodb: diff(before.dynamo, after.dynamo),
          ingest: t('ingest'),
          act: t('act'),
        },
        null,
        1,
      ),
    );
  }

  await phase('hard bounces', ACCT_HEADER, bounceLine);
  await phase('complaints', F_HEADER, complaintLine);
  for (const s of sources) await s.stop();
  sqs.destroy();
  dynamodb.destroy();
  await Promise.all([sqsProxy.close(), dynamoProxy.close(), hook.close()]);
  await sqsServer.stop();
  await dynamo.stop();
  console.log(`done in ${Math.round((Date.now() - started) / 1000)} s`);
}

await main();
