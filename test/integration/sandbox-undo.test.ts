/**
 * `undo --table` on the sandbox: records shipped as envelopes → the real ingest and act handler
 * modules (middy, Powertools, polled as Lambda would) → the MailWizz fake; then `undo --table` on
 * the sandbox's table and queue, and the real act handler puts the wrong one back, once, while the
 * other stays unsubscribed.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCliText } from '#test/support/cli-run.ts';
import { type CloudSandbox, startCloudSandbox } from '#test/support/cloud-sandbox.ts';

let cloud: CloudSandbox;
let list: string;

const status = (email: string) => cloud.fake.subscribers.find((s) => s.email === email)?.status;

beforeAll(async () => {
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
  cloud = await startCloudSandbox({
    keyEnv: 'SANDBOX_UNDO_MW_KEY',
    apiKey: 'sandbox-undo-key-0123456',
    stream: 'undo',
  });
  list = cloud.fake.addList('News');
  cloud.fake.addSubscriber(list, 'wrong@example.com');
  cloud.fake.addSubscriber(list, 'right@example.com');
}, 30_000);

afterAll(async () => {
  vi.unstubAllEnvs();
  await cloud?.stop();
});

const bounce = (rcpt: string, job: string) =>
  `b,2026-12-01 09:00:00+0000,,news@example.com,${rcpt},,failed,5.1.1 (bad destination mailbox address),smtp;550 5.1.1 user unknown,,bad-mailbox,,,,,,,,,${job},,,`;

describe('undo --table on the sandbox', () => {
  it('puts back the wrong unsubscribe through the real act handler, once', async () => {
    await cloud.ship([bounce('wrong@example.com', 'job-bad'), bounce('right@example.com', 'job-ok')]);
    await cloud.until(
      'both unsubscribed',
      () => status('wrong@example.com') === 'unsubscribed' && status('right@example.com') === 'unsubscribed',
    );
    await cloud.until('queues settled', () => cloud.settled());
    const { context } = cloud.sandbox;
    const effects = cloud.fake.effects;
    const run = await runCliText([
      'undo',
      '--job',
      'job-bad',
      '--yes',
      '--json',
      '--table',
      context.table,
      '--region',
      context.region,
      '--endpoint',
      context.dynamodbEndpoint,
      '--actions-queue',
      context.actions.url,
      '--sqs-endpoint',
      context.sqsEndpoint,
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ selected: 1, undone: 1, queued: 1 });
    await cloud.until('wrong@ confirmed again', () => status('wrong@example.com') === 'confirmed');
    await cloud.until('queues settled', () => cloud.settled());
    expect(cloud.fake.effects).toBe(effects + 1);
    expect(status('right@example.com')).toBe('unsubscribed');
    expect(cloud.errors).toEqual([]);
  });
});
