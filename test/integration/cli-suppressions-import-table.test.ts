/**
 * `suppressions import --table` on dynalite, with --apply queuing on an SQS actions queue
 * (fauxqs): the suppressions land in the deployed table's items, recorded-only ones owe no
 * provider (a later record is `already`), applied ones are queued once for `act`.
 */
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import type { Action } from '#core/act/action.ts';
import { runCliText } from '#test/support/cli-run.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';
import { type SqsServer, startSqsServer } from '#test/support/sqs-server.ts';

const FIXTURE = join(import.meta.dirname, '../fixtures/suppressions/mailgun-bounces.csv');
let dynamo: DynamoDbLocal;
let sqs: SqsServer;
let config: string;

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startSqsServer()]);
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  config = join(mkdtempSync(join(tmpdir(), 'pmta-bounce-import-table-')), 'config.yaml');
  writeFileSync(
    config,
    'providers:\n  - { id: hook, type: webhook, url: "https://hooks.example.com/x", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }\n',
  );
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await Promise.all([dynamo?.stop(), sqs?.stop()]);
});

const tableArgs = (table: string) => [
  '--table',
  table,
  '--region',
  'us-east-1',
  '--endpoint',
  dynamo.server.endpoint,
];

describe('suppressions import --table', () => {
  it('records only: nothing owed, a later record for the address is already suppressed', async () => {
    const table = await dynamo.newTable();
    const run = await runCliText([
      'suppressions',
      'import',
      FIXTURE,
      '--format',
      'mailgun',
      '--json',
      '--config',
      config,
      ...tableArgs(table),
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ imported: 3, rejected: 1, actions: 0 });
    const store = new DynamoDbSuppressionStore({ client: dynamo.documents, table });
    const [later] = await store.suppress([
      { subject: 'mg1@example.com', kind: 'bounce', reason: 'r', recordKey: 'k', at: 1, providers: ['hook'] },
    ]);
    expect(later).toMatchObject({ state: 'already', pendingProviders: [] });
    const exported = await runCliText(['suppressions', 'export', '--format', 'json', ...tableArgs(table)]);
    expect((JSON.parse(exported.stdout) as Array<{ recordType: string }>).map((r) => r.recordType)).toEqual([
      'import:mailgun',
      'import:mailgun',
      'import:mailgun',
    ]);
  });

  it('--apply queues one unsubscribe action per new address on the actions queue; a re-import before act ran queues what is still owed', async () => {
    const table = await dynamo.newTable();
    const queue = await sqs.createQueue('actions-import');
    const args = [
      'suppressions',
      'import',
      FIXTURE,
      '--format',
      'mailgun',
      '--apply',
      '--json',
      '--config',
      config,
    ];
    const run = await runCliText([
      ...args,
      ...tableArgs(table),
      '--actions-queue',
      queue,
      '--sqs-endpoint',
      sqs.endpoint,
    ]);
    expect(JSON.parse(run.stdout)).toMatchObject({ imported: 3, actions: 3, queued: 3 });
    const again = await runCliText([
      ...args,
      ...tableArgs(table),
      '--actions-queue',
      queue,
      '--sqs-endpoint',
      sqs.endpoint,
    ]);
    // Nothing is done yet (act has not run): still owed, queued again; act's claims and the done set
    // make the provider call happen once (docs/operations.md).
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, already: 3, queued: 3 });
    const received = await sqs
      .client()
      .send(new ReceiveMessageCommand({ QueueUrl: queue, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const actions = (received.Messages ?? []).map((m) => JSON.parse(m.Body!) as Action);
    expect([...new Set(actions.map((a) => a.subject))].sort()).toEqual([
      'mg1@example.com',
      'mg2@example.com',
      'mg3@example.com',
    ]);
    expect(actions.every((a) => a.providers.join() === 'hook' && a.target.type === 'email')).toBe(true);
  });

  it('--apply --table without --actions-queue is a usage error', async () => {
    const run = await runCliText([
      'suppressions',
      'import',
      FIXTURE,
      '--apply',
      '--config',
      config,
      '--table',
      't',
    ]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--actions-queue');
  });
});
