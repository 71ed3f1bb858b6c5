/**
 * `pmta-bounce undo --table` against the deployed-table path: dynalite, an SQS actions queue
 * (fauxqs), the real ingest and act (wired from their environment as in AWS) and the MailWizz and
 * Interspire fakes. Suppressions are made the real way (accounting records → ingest → act), then a
 * wrong batch chosen by job, by category and by rule is undone: the table forgets them, the audit
 * keeps both, and the queued undo actions, run by act, put back exactly the subscriptions this
 * product changed (MailWizz: the previous status per list; Interspire: manual). A list the
 * subscriber had left on their own, a subscriber's own unsubscribe and everything not selected are
 * untouched; act runs each put-back once however often the message comes; a second undo and a
 * --dry-run change nothing; an interrupted undo is finished by the next one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import type { Action } from '#core/act/action.ts';
import { CONTENT_ENCODING_ATTRIBUTE } from '#core/envelope/envelope.ts';
import { type ActSummary, runActionsBatch } from '#lambda/act/act.ts';
import { ENV } from '#lambda/env.ts';
import { ingestAccountingBatch } from '#lambda/ingest/ingest.ts';
import { createActWiring, createIngestWiring } from '#lambda/wiring.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { ACCT_HEADER } from '#test/support/builders.ts';
import { runCliText } from '#test/support/cli-run.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';
import { envelopeEncoder } from '#test/support/sandbox-records.ts';
import { drainActions, type SqsServer, sqsEventRecord, startSqsServer } from '#test/support/sqs-server.ts';
import { seedUndoSubscribers } from '#test/support/undo-subscribers.ts';

const MW_KEY = 'undo-table-mw-key-0123456';
const IEM_TOKEN = 'undo-table-iem-token-0123';

let dynamo: DynamoDbLocal;
let sqs: SqsServer;
let mw: FakeMailwizzServer;
let iem: FakeInterspireServer;
let env: Record<string, string>;
let table: string;
let queue: string;
let news: string;
let offers: string;
let seq = 0;

let mwStatus: ReturnType<typeof seedUndoSubscribers>['mwStatus'];
let iemUnsubscribed: ReturnType<typeof seedUndoSubscribers>['iemUnsubscribed'];

function sqsRecord(body: string, attributes: Record<string, string> = {}): SQSRecord {
  seq += 1;
  return sqsEventRecord(body, `m${seq}`, attributes, 'undo-table-actions');
}

function line(rcpt: string, category: string, jobId: string, minute: number): string {
  const fields: Record<string, string> = {
    type: 'b',
    timeLogged: `2026-12-01 09:${String(minute).padStart(2, '0')}:00+0000`,
    orig: 'news@example.com',
    rcpt,
    dsnStatus: '5.1.1 (bad destination mailbox address)',
    dsnDiag: 'smtp;550 5.1.1 user unknown',
    bounceCat: category,
    jobId,
  };
  return ACCT_HEADER.split(',')
    .map((name) => fields[name] ?? '')
    .join(',');
}

const encode = envelopeEncoder('undo-table');

/** Ingests accounting lines as the ingest function does (its actions land on the queue). */
async function ingest(lines: string[]): Promise<void> {
  const message = await encode(lines, ACCT_HEADER);
  const attributes: Record<string, string> = message.encoding
    ? { [CONTENT_ENCODING_ATTRIBUTE]: String(message.encoding) }
    : {};
  const [out] = await ingestAccountingBatch(
    { Records: [sqsRecord(message.body.toString(), attributes)] },
    await createIngestWiring(env).deps(),
  );
  expect(out).toMatchObject({ status: 'fulfilled', value: { records: lines.length } });
}

/** Runs every queued action through act, once per message; returns act's summaries. */
async function runAct(bodies?: string[]): Promise<ActSummary[]> {
  const messages = bodies ?? (await drainActions(sqs.client(), queue)).map((a) => JSON.stringify(a));
  const deps = await createActWiring(env).deps();
  const out = await runActionsBatch({ Records: messages.map((b) => sqsRecord(b)) }, deps);
  return out.map((o) => {
    if (o.status !== 'fulfilled') throw new Error(`act failed: ${String(o.reason)}`);
    return o.value;
  });
}

const tableArgs = () => [
  '--table',
  table,
  '--region',
  'us-east-1',
  '--endpoint',
  dynamo.server.endpoint,
  '--actions-queue',
  queue,
  '--sqs-endpoint',
  sqs.endpoint,
];
const undo = (...args: string[]) => runCliText(['undo', ...args, ...tableArgs(), '--json']);
const exported = async () =>
  (
    JSON.parse(
      (await runCliText(['suppressions', 'export', '--format', 'json', ...tableArgs().slice(0, 6)])).stdout,
    ) as Array<{ address: string; rule: string }>
  )
    .map((r) => r.address)
    .sort();
const stateItem = async (subject: string) =>
  (
    await dynamo.documents.send(
      new GetCommand({ TableName: table, Key: { pk: `sub#${subject}`, sk: 'state' } }),
    )
  ).Item;

/** Every provider request and change so far: a step that must call nobody leaves these as they are. */
const providerTraffic = () => [mw.http.totalRequests(), mw.effects, iem.http.totalRequests(), iem.effects];

let originalActions: Action[];

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  [dynamo, sqs, mw, iem] = await Promise.all([
    startDynamoDbLocal(),
    startSqsServer(),
    FakeMailwizzServer.start({ mode: 'v2', apiKey: MW_KEY }),
    FakeInterspireServer.start({ username: 'admin', token: IEM_TOKEN }),
  ]);
  ({ news, offers, mwStatus, iemUnsubscribed } = seedUndoSubscribers(mw, iem));
  mw.addSubscriber(news, 'self@example.com');
  table = await dynamo.newTable();
  queue = await sqs.createQueue('undo-table-actions');
  env = {
    [ENV.CONFIG_JSON]: JSON.stringify({
      providers: [
        { id: 'mw', type: 'mailwizz', url: mw.url, apiKey: '${MW_KEY}', maxRetries: 0 },
        {
          id: 'iem',
          type: 'interspire',
          url: iem.url,
          username: 'admin',
          token: '${IEM_TOKEN}',
          maxRetries: 0,
        },
      ],
    }),
    [ENV.TABLE_NAME]: table,
    [ENV.ACTIONS_QUEUE_URL]: queue,
    [ENV.DYNAMODB_ENDPOINT]: dynamo.server.endpoint,
    [ENV.SQS_ENDPOINT]: sqs.endpoint,
    MW_KEY,
    IEM_TOKEN,
    AWS_REGION: 'us-east-1',
  };
  for (const [k, v] of Object.entries(env)) vi.stubEnv(k, v);
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');

  await ingest([
    // The wrong batch: job 41 (a misread report), bad-domain and routing-errors (a bad rule).
    line('ann@example.com', 'bad-mailbox', 'job-41', 0),
    line('own@example.com', 'bad-mailbox', 'job-41', 1),
    line('bea@example.com', 'bad-domain', 'job-42', 2),
    line('cy@example.com', 'routing-errors', 'job-43', 3),
    // Stays suppressed until the by-rule undo names it.
    line('keep@example.com', 'inactive-mailbox', 'job-44', 4),
  ]);
  originalActions = await drainActions(sqs.client(), queue);
  const acted = await runAct(originalActions.map((a) => JSON.stringify(a)));
  expect(acted.map((a) => a.outcome)).toEqual(['done', 'done', 'done', 'done', 'done']);
  // The subscriber's own unsubscribe (one-click), recorded as the unsub functions record it.
  const store = new DynamoDbSuppressionStore({ client: dynamo.documents, table });
  await store.suppress([
    {
      subject: 'self@example.com',
      kind: 'unsubscribe',
      reason: 'one-click',
      recordKey: 'one-click:self',
      at: Date.parse('2026-12-01T09:05:00Z'),
      providers: ['mw', 'iem'],
      jobId: 'job-41',
    },
  ]);
  mw.subscribers.find((s) => s.email === 'self@example.com')!.status = 'unsubscribed';
  expect([mwStatus('ann@example.com', news), mwStatus('cy@example.com', news)]).toEqual([
    'unsubscribed',
    'unsubscribed',
  ]);
  expect(iemUnsubscribed('ann@example.com')).toEqual([true]);
}, 30_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([dynamo?.stop(), sqs?.stop(), mw?.close(), iem?.close()]);
});

describe('undo --table', () => {
  it('--dry-run prints the selection and the planned calls and changes nothing', async () => {
    const before = await exported();
    const traffic = providerTraffic();
    const run = await runCliText(['undo', '--job', 'job-41', '--dry-run', ...tableArgs().slice(0, 6)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('ann@example.com: suppressed');
    expect(run.stdout).toMatch(/put back: mw l\w+ \(News\) -> confirmed/);
    expect(run.stdout).toContain("self@example.com: skipped (the subscriber's own unsubscribe request");
    expect(await exported()).toEqual(before);
    expect(await stateItem('ann@example.com')).not.toHaveProperty('undoing');
    expect(await drainActions(sqs.client(), queue)).toEqual([]);
    expect(providerTraffic()).toEqual(traffic);
  });

  it('by job: forgets the batch, queues one undo action each, and act puts back exactly what we changed', async () => {
    const run = await undo('--job', 'job-41', '--yes');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      selected: 3,
      undone: 2,
      queued: 2,
      skipped: [{ address: 'self@example.com', why: expect.stringContaining('own unsubscribe') }],
    });
    expect(await exported()).toEqual([
      'bea@example.com',
      'cy@example.com',
      'keep@example.com',
      'self@example.com',
    ]);
    expect(await stateItem('ann@example.com')).toBeUndefined();
    const queued = await drainActions(sqs.client(), queue);
    expect(queued.map((a) => a.subject).sort()).toEqual(['ann@example.com', 'own@example.com']);
    const ann = queued.find((a) => a.subject === 'ann@example.com')!;
    expect(ann.undo?.lists.mw?.map((l) => l.previousStatus)).toEqual(['confirmed', 'confirmed']);
    // The message comes twice (SQS is at-least-once): the put-back happens once.
    const bodies = queued.map((a) => JSON.stringify(a));
    const first = await runAct(bodies);
    expect(first.map((s) => s.outcome)).toEqual(['done', 'done']);
    const traffic = providerTraffic();
    const again = await runAct(bodies);
    expect(again.map((s) => s.outcome)).toEqual(['duplicate', 'duplicate']);
    expect(providerTraffic()).toEqual(traffic);

    expect([mwStatus('ann@example.com', news), mwStatus('ann@example.com', offers)]).toEqual([
      'confirmed',
      'confirmed',
    ]);
    expect(mwStatus('own@example.com', offers)).toBe('confirmed');
    expect(mwStatus('own@example.com', news)).toBe('unsubscribed'); // their own doing: untouched
    expect(mwStatus('self@example.com', news)).toBe('unsubscribed'); // their own request: untouched
    expect(mwStatus('bea@example.com', news)).toBe('unsubscribed'); // not selected
    expect(iemUnsubscribed('ann@example.com')).toEqual([true]); // Interspire: manual
    // The act of undoing brought back no suppression item (claims live on their own slot).
    expect(await stateItem('ann@example.com')).toBeUndefined();

    const status = await runCliText(['status', 'ann@example.com', ...tableArgs().slice(0, 6)]);
    expect(status.stdout).toContain('ann@example.com: not suppressed');
    expect(status.stdout).toMatch(
      /decision unsubscribe[\s\S]*provider mw done[\s\S]*decision undo[\s\S]*provider iem resubscribe manual[\s\S]*/,
    );
    expect(status.stdout).toMatch(/provider mw resubscribe done/);
  });

  it('an unsubscribe still queued for a forgotten suppression calls nobody and brings nothing back', async () => {
    const stale = originalActions.find((a) => a.subject === 'ann@example.com')!;
    const traffic = providerTraffic();
    const [out] = await runAct([JSON.stringify(stale)]);
    expect(out?.outcome).toBe('forgotten');
    expect(providerTraffic()).toEqual(traffic);
    expect(await stateItem('ann@example.com')).toBeUndefined();
    expect(mwStatus('ann@example.com', news)).toBe('confirmed');
  });

  it('a second undo of the same selection does nothing: no action, no provider call', async () => {
    const traffic = providerTraffic();
    const again = await undo('--job', 'job-41', '--yes');
    expect(JSON.parse(again.stdout)).toMatchObject({ selected: 1, undone: 0, queued: 0 });
    expect(await drainActions(sqs.client(), queue)).toEqual([]);
    expect(providerTraffic()).toEqual(traffic);
  });

  it('by category, then by rule: the previous status comes back (unconfirmed stays unconfirmed)', async () => {
    const byCategory = await undo('--category', 'bad-domain', '--category', 'routing-errors', '--yes');
    expect(JSON.parse(byCategory.stdout)).toMatchObject({ selected: 2, undone: 2, queued: 2 });
    expect((await runAct()).map((s) => s.outcome)).toEqual(['done', 'done']);
    expect(mwStatus('bea@example.com', news)).toBe('confirmed');
    expect(mwStatus('bea@example.com', offers)).toBe('confirmed');
    expect(mwStatus('cy@example.com', news)).toBe('unconfirmed');
    expect(mwStatus('keep@example.com', news)).toBe('unsubscribed');
    const rules = JSON.parse(
      (await runCliText(['suppressions', 'export', '--format', 'json', ...tableArgs().slice(0, 6)])).stdout,
    ) as Array<{ address: string; rule: string }>;
    const rule = rules.find((r) => r.address === 'keep@example.com')?.rule;
    expect(rule).toBeTruthy();
    const byRule = await undo('--rule', rule!, '--category', 'inactive-mailbox', '--yes');
    expect(JSON.parse(byRule.stdout)).toMatchObject({ selected: 1, undone: 1, queued: 1 });
    expect((await runAct()).map((s) => s.outcome)).toEqual(['done']);
    expect([mwStatus('keep@example.com', news), mwStatus('keep@example.com', offers)]).toEqual([
      'confirmed',
      'confirmed',
    ]);
    expect(await exported()).toEqual(['self@example.com']);
  });

  it('an undo interrupted before its action was queued is finished by the next undo, once', async () => {
    // A new wrong suppression, acted on: MailWizz News unsubscribed.
    mw.addSubscriber(news, 'dan@example.com');
    await ingest([line('dan@example.com', 'bad-mailbox', 'job-45', 6)]);
    expect((await runAct()).map((s) => s.outcome)).toEqual(['done']);
    expect(mwStatus('dan@example.com', news)).toBe('unsubscribed');
    // The queue is unreachable: the undo is marked on the item and audited, then the send fails.
    const args = tableArgs();
    args[args.indexOf('--sqs-endpoint') + 1] = 'http://127.0.0.1:9';
    const broken = await runCliText(['undo', '--job', 'job-45', '--yes', '--json', ...args]);
    expect(broken.code).toBe(3);
    expect(JSON.parse(broken.stdout)).toMatchObject({
      undone: 0,
      failed: 1,
      error: expect.stringContaining('dan@example.com: '),
    });
    expect(JSON.parse(broken.stdout).error).toContain('run the same undo again');
    expect(await stateItem('dan@example.com')).toMatchObject({ undoing: expect.any(String) });
    const finished = await undo('--job', 'job-45', '--yes');
    expect(JSON.parse(finished.stdout)).toMatchObject({ selected: 1, undone: 1, queued: 1 });
    expect(await stateItem('dan@example.com')).toBeUndefined();
    expect((await runAct()).map((s) => s.outcome)).toEqual(['done']);
    expect(mwStatus('dan@example.com', news)).toBe('confirmed');
  });

  it('status --table shows the suppression, the undo and a later import in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-undo-table-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      'providers:\n  - { id: mw, type: webhook, url: "https://hooks.example.com/x", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }\n',
    );
    const file = join(dir, 'old-sender.csv');
    writeFileSync(file, 'address,reason\nann@example.com,from the old sender\n');
    const imported = await runCliText([
      'suppressions',
      'import',
      file,
      '--config',
      config,
      ...tableArgs().slice(0, 6),
    ]);
    expect(imported.code).toBe(0);
    const status = await runCliText(['status', 'ann@example.com', ...tableArgs().slice(0, 6)]);
    expect(status.stdout).toContain('ann@example.com: SUPPRESSED');
    expect(status.stdout).toMatch(
      /decision unsubscribe[\s\S]*provider mw done[\s\S]*decision undo[\s\S]*provider mw resubscribe done[\s\S]*decision import line 2: imported from csv[^\n]*from the old sender \(recorded only\)/,
    );
    rmSync(dir, { recursive: true, force: true });
  });

  it('--table without --actions-queue is a usage error unless --dry-run', async () => {
    const run = await runCliText(['undo', '--job', 'x', '--yes', ...tableArgs().slice(0, 6)]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--actions-queue');
  });
});
