/**
 * `suppressions export --table` against the DynamoDB adapter on dynalite: the suppressions written
 * by the cloud store, with their provenance and the lists their provider calls changed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DynamoDbSuppressionStore } from '#adapters/dynamodb/dynamodb-suppression-store.ts';
import { runCliText } from '#test/support/cli-run.ts';
import { type DynamoDbLocal, startDynamoDbLocal } from '#test/support/dynamodb-local.ts';

let local: DynamoDbLocal;
let table: string;

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  local = await startDynamoDbLocal();
  table = await local.newTable();
  const store = new DynamoDbSuppressionStore({ client: local.documents, table });
  const at = Date.UTC(2026, 10, 20, 9, 0, 0);
  await store.suppress([
    {
      subject: 'ann@example.com',
      kind: 'bounce',
      category: 'bad-mailbox',
      reason: 'category=bad-mailbox rule=pmta action=unsubscribe',
      recordKey: 'k1',
      at,
      providers: ['mw'],
      rule: 'pmta',
      recordType: 'b',
      jobId: 'job-41',
    },
    {
      subject: 'bob@example.com',
      kind: 'complaint',
      reason: 'complaint',
      recordKey: 'k2',
      at: at + 1,
      providers: [],
    },
  ]);
  await store.appendAudit([
    {
      subject: 'ann@example.com',
      at: at + 5,
      type: 'provider',
      action: 'unsubscribe',
      reason: 'x',
      provider: 'mw',
      outcome: 'done',
      lists: [
        { listId: 'L1', listName: 'News', outcome: 'done', previousStatus: 'confirmed' },
        { listId: 'L2', outcome: 'already' },
      ],
    },
  ]);
  await store.markProvider('ann@example.com', 'mw', 'done');
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await local?.stop();
});

describe('suppressions export --table', () => {
  it('reads the deployed table: provenance and the lists changed', async () => {
    const run = await runCliText([
      'suppressions',
      'export',
      '--format',
      'json',
      '--table',
      table,
      '--region',
      'us-east-1',
      '--endpoint',
      local.server.endpoint,
    ]);
    expect(run.stderr).toBe('');
    const rows = (JSON.parse(run.stdout) as Array<Record<string, unknown>>).sort((a, b) =>
      String(a.address).localeCompare(String(b.address)),
    );
    expect(rows).toEqual([
      {
        address: 'ann@example.com',
        suppressedAt: '2026-11-20T09:00:00.000Z',
        kind: 'bounce',
        category: 'bad-mailbox',
        rule: 'pmta',
        recordType: 'b',
        job: 'job-41',
        reason: 'category=bad-mailbox rule=pmta action=unsubscribe',
        providersDone: ['mw'],
        listsChanged: [{ provider: 'mw', listId: 'L1', listName: 'News', previousStatus: 'confirmed' }],
      },
      expect.objectContaining({ address: 'bob@example.com', kind: 'complaint', listsChanged: [] }),
    ]);
    const filtered = await runCliText([
      'suppressions',
      'export',
      '--reason',
      'complaint',
      '--table',
      table,
      '--region',
      'us-east-1',
      '--endpoint',
      local.server.endpoint,
    ]);
    expect(filtered.stdout.trim().split('\r\n')).toHaveLength(2);
    expect(filtered.stdout).toContain('bob@example.com');
  });
});
