/**
 * The unsub function against real stand-ins: SES receipt events in, actions on a fauxqs queue
 * and suppression state in dynalite out. Only the right unsubscribes may happen.
 */
import { readFileSync } from 'node:fs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SESEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createMemoryMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import { createSqsActionSender } from '#adapters/sqs/sqs-action-queue.ts';
import type { Action } from '#core/act/action.ts';
import { createRouter } from '#core/decide/routing.ts';
import { UNVERIFIED_TTL_MS } from '#core/unsubscribe/inbound-unsubscribe.ts';
import { ENV } from '#lambda/env.ts';
import { handleInboundUnsubscribeEvent } from '#lambda/unsub/unsub.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';
import { drainActions, type SqsServer, startSqsServer } from '#test/support/sqs-server.ts';

const FIXTURE = readFileSync(new URL('../fixtures/ses/unsubscribe-pass.json', import.meta.url), 'utf8');
const GOOD = 'ab12cd34ef567.lq981kz0aa2bc.cmp00000000zz@unsub.example.com';
const SUBJECT = 'ref:mailwizz:lq981kz0aa2bc:ab12cd34ef567';
const OTHER = 'zz12cd34ef567.lq981kz0aa2bc.cmp00000000zz@unsub.example.com';

function sesEvent(
  change: { recipients?: string[]; spam?: string; virus?: string; messageId?: string } = {},
): SESEvent {
  const event = JSON.parse(FIXTURE) as SESEvent;
  const record = event.Records[0]!.ses;
  if (change.recipients) record.receipt.recipients = change.recipients;
  if (change.spam) record.receipt.spamVerdict = { status: change.spam as 'FAIL' };
  if (change.virus) record.receipt.virusVerdict = { status: change.virus as 'FAIL' };
  if (change.messageId) record.mail.messageId = change.messageId;
  return event;
}

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

const drain = (queueUrl: string): Promise<Action[]> => drainActions(sqs, queueUrl);

let queues = 0;
async function setup(scope: 'list' | 'everywhere' = 'list') {
  queues += 1;
  const queueUrl = await sqsServer.createQueue(`actions-${queues}`);
  const store = new DynamoDbSuppressionStore({
    client: dynamo.documents,
    table: await dynamo.newTable(),
    now: () => 1_800_000_000_000,
  });
  const metrics = createMemoryMetricSink();
  const logs: Array<{ level: string; message: string; extra?: Record<string, unknown> }> = [];
  const log = {
    info: (message: string, extra?: Record<string, unknown>) => logs.push({ level: 'info', message, extra }),
    warn: (message: string, extra?: Record<string, unknown>) => logs.push({ level: 'warn', message, extra }),
    error: (message: string, extra?: Record<string, unknown>) =>
      logs.push({ level: 'error', message, extra }),
  };
  const deps = {
    settings: {
      domains: ['unsub.example.com'],
      scope,
      router: createRouter([
        { id: 'mw', type: 'mailwizz' },
        { id: 'mw-promo', type: 'mailwizz', senders: ['*@promo.example.com'] },
        { id: 'iem', type: 'interspire' },
      ]),
    },
    store,
    actions: createSqsActionSender(sqs, queueUrl),
    metrics,
    log,
    now: () => 1_800_000_000_000,
  };
  return { queueUrl, store, metrics, logs, deps };
}

describe('unsub function: SES receipt events', () => {
  it('PASS + good address: one ref action to the mailwizz providers, suppression recorded', async () => {
    const t = await setup();
    const summary = await handleInboundUnsubscribeEvent(sesEvent(), t.deps);
    expect(summary).toEqual({ recipients: 1, accepted: 1, refused: 0, actions: 1 });
    const actions = await drain(t.queueUrl);
    expect(actions).toEqual([
      {
        v: 1,
        id: SUBJECT,
        subject: SUBJECT,
        target: {
          type: 'ref',
          ref: {
            providerType: 'mailwizz',
            subscriberId: 'ab12cd34ef567',
            listId: 'lq981kz0aa2bc',
            campaignId: 'cmp00000000zz',
          },
        },
        kind: 'unsubscribe',
        reason: 'List-Unsubscribe mail: unsubscribe from its list',
        occurredAt: Date.parse('2024-05-02T17:48:56.321Z'),
        requestedAt: Date.parse('2024-05-02T17:48:56.321Z'),
        // An unsubscribe mail has no `orig`: every mailwizz provider, never interspire.
        providers: ['mw', 'mw-promo'],
        // Provisional until a provider confirms the subscription (docs/security.md).
        unverifiedUntil: 1_800_000_000_000 + UNVERIFIED_TTL_MS,
      },
    ]);
    const status = await t.store.status(SUBJECT);
    expect(status.suppressed).toMatchObject({ kind: 'unsubscribe' });
    expect(status.audit).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'decision', action: 'unsubscribe' })]),
    );
    expect(t.metrics.total('InboundUnsubscribes', { Verdict: 'accepted' })).toBe(1);
  });

  it.each([
    { case: 'spam FAIL', change: { spam: 'FAIL' }, verdict: 'spam' },
    { case: 'virus FAIL', change: { virus: 'FAIL' }, verdict: 'virus' },
    { case: 'spam and virus FAIL', change: { spam: 'FAIL', virus: 'FAIL' }, verdict: 'virus' },
    {
      case: 'malformed (the iCloud sample address at our domain)',
      change: { recipients: ['opt-out-100731.e75std53hz8rnmy4r@unsub.example.com'] },
      verdict: 'malformed',
    },
    {
      case: 'malformed (12-char uid)',
      change: { recipients: ['ab12cd34ef56.lq981kz0aa2bc.cmp00000000zz@unsub.example.com'] },
      verdict: 'malformed',
    },
    {
      case: 'unknown domain',
      change: { recipients: ['ab12cd34ef567.lq981kz0aa2bc.cmp00000000zz@example.org'] },
      verdict: 'unknown-domain',
    },
    {
      case: 'oversized address',
      change: { recipients: [`${'a'.repeat(5000)}.lq981kz0aa2bc.cmp00000000zz@unsub.example.com`] },
      verdict: 'malformed',
    },
  ])('$case: nothing happens', async ({ change, verdict }) => {
    const t = await setup();
    const summary = await handleInboundUnsubscribeEvent(sesEvent(change), t.deps);
    expect(summary).toMatchObject({ accepted: 0, refused: 1, actions: 0 });
    expect(await drain(t.queueUrl)).toEqual([]);
    expect((await t.store.status(SUBJECT)).suppressed).toBeUndefined();
    expect(t.metrics.total('InboundUnsubscribes', { Verdict: verdict })).toBe(1);
    const refused = t.logs.find((l) => l.message === 'unsubscribe mail refused');
    expect(refused?.extra?.verdict).toBe(verdict);
    expect(String(refused?.extra?.recipient).length).toBeLessThan(300);
  });

  it('mixed recipients: only the good one is acted on', async () => {
    const t = await setup();
    const summary = await handleInboundUnsubscribeEvent(
      sesEvent({
        recipients: [
          'not-ours@example.org',
          GOOD.toUpperCase(),
          'x.y.z@unsub.example.com',
          OTHER,
          `${OTHER}`, // the same subscriber twice: one action
        ],
      }),
      t.deps,
    );
    expect(summary).toEqual({ recipients: 5, accepted: 3, refused: 2, actions: 2 });
    const actions = await drain(t.queueUrl);
    expect(actions.map((a) => a.subject).sort()).toEqual([
      SUBJECT,
      'ref:mailwizz:lq981kz0aa2bc:zz12cd34ef567',
    ]);
  });

  it('a replayed event re-sends while providers are pending, and nothing once they are done', async () => {
    const t = await setup();
    await handleInboundUnsubscribeEvent(sesEvent(), t.deps);
    expect(await drain(t.queueUrl)).toHaveLength(1);
    await handleInboundUnsubscribeEvent(sesEvent(), t.deps);
    expect(await drain(t.queueUrl)).toHaveLength(1);
    await t.store.markProvider(SUBJECT, 'mw', 'done');
    await t.store.markProvider(SUBJECT, 'mw-promo', 'done');
    const summary = await handleInboundUnsubscribeEvent(sesEvent({ messageId: 'another' }), t.deps);
    expect(summary.actions).toBe(0);
    expect(await drain(t.queueUrl)).toEqual([]);
  });

  it('scope everywhere: the action is flagged for the adapter', async () => {
    const t = await setup('everywhere');
    await handleInboundUnsubscribeEvent(sesEvent(), t.deps);
    const [action] = await drain(t.queueUrl);
    expect(action).toMatchObject({ everywhere: true, target: { type: 'ref' } });
  });

  it('logs recipients and verdicts, never headers or the mail', async () => {
    const t = await setup();
    await handleInboundUnsubscribeEvent(sesEvent({ recipients: [GOOD, 'x@example.org'] }), t.deps);
    const text = JSON.stringify(t.logs);
    expect(text).toContain(GOOD);
    for (const secretish of ['DKIM', 'Received', 'icloud.com', 'unsubscribe"', 'X-Apple'])
      expect(text).not.toContain(secretish);
  });
});

describe('unsub handler module (real wiring from the environment)', () => {
  it('runs the same path from ENV: config JSON, table, queue and endpoints', async () => {
    const queueUrl = await sqsServer.createQueue('actions-module');
    const table = await dynamo.newTable();
    const env = {
      [ENV.CONFIG_JSON]: JSON.stringify({
        providers: [
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a config placeholder, not a template
          { id: 'mw', type: 'mailwizz', url: 'https://mw.example.com/api', apiKey: '${MW_KEY}' },
        ],
        unsubscribe: { domains: ['unsub.example.com'] },
      }),
      [ENV.TABLE_NAME]: table,
      [ENV.ACTIONS_QUEUE_URL]: queueUrl,
      [ENV.SQS_ENDPOINT]: sqsServer.endpoint,
      [ENV.DYNAMODB_ENDPOINT]: dynamo.server.endpoint,
      AWS_REGION: 'us-east-1',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
    };
    for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
    try {
      vi.resetModules();
      const { handler } = await import('#lambda/unsub/handler.ts');
      // The provider's ${MW_KEY} is never needed (nor read) by this function.
      const summary = await handler(sesEvent(), { awsRequestId: 'r1', functionName: 'unsub' } as Context);
      expect(summary).toMatchObject({ accepted: 1, actions: 1 });
      const [action] = await drain(queueUrl);
      expect(action).toMatchObject({ subject: SUBJECT, providers: ['mw'] });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
