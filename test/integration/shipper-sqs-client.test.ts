/**
 * The shipper's own SQS client against fauxqs (a real SQS-compatible server) on 127.0.0.1, plus
 * the two ways a network fails: nothing listening, and a server that never answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_ENCODING_ATTRIBUTE, ContentEncoding } from '#core/envelope/envelope.ts';
import { type SqsServer, startSqsServer } from '#test/support/sqs-server.ts';
import { TEST_CANARY } from '../../scripts/scan-canary.ts';
import { SqsClient, SqsError, SqsNetworkError } from '../../shipper/sqs/sqs-client.ts';

const credentials = async () => ({
  accessKeyId: 'test',
  secretAccessKey: TEST_CANARY,
  sessionToken: TEST_CANARY,
});

let sqs: SqsServer;
let client: SqsClient;

beforeAll(async () => {
  sqs = await startSqsServer();
  client = new SqsClient({ region: 'us-east-1', endpoint: sqs.endpoint, credentials });
});
afterAll(async () => {
  client.destroy();
  await sqs.stop();
});

async function rejection(p: Promise<unknown>): Promise<Error> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  expect(`${error.name} ${error.message} ${String(error.cause ?? '')}`).not.toContain(TEST_CANARY);
  return error;
}

describe('SqsClient against fauxqs', () => {
  it('sends a batch: every entry acknowledged, bodies and attributes arrive unchanged', async () => {
    const queueUrl = await sqs.createQueue('client-roundtrip');
    const gzipped = gzipSync(Buffer.from('{"v":1,"records":["a,b,c"]}')).toString('base64');
    const entries = [
      { Id: 'm0', MessageBody: '{"v":1,"records":["plain"]}' },
      {
        Id: 'm1',
        MessageBody: gzipped,
        MessageAttributes: {
          [CONTENT_ENCODING_ATTRIBUTE]: { DataType: 'String' as const, StringValue: ContentEncoding.gzip },
        },
      },
      { Id: 'm2', MessageBody: 'Grüße 東京 ✓ "quotes" \\ \t\n' },
    ];
    // A Buffer body (base64 bytes, as the shipper keeps them) goes in as it is.
    const asBytes = gzipSync(Buffer.from('{"v":1,"records":["bytes"]}')).toString('base64');
    const result = await client.sendMessageBatch(queueUrl, [
      ...entries,
      { Id: 'm3', MessageBody: Buffer.from(asBytes, 'latin1') },
    ]);
    entries.push({ Id: 'm3', MessageBody: asBytes });
    expect(result.Failed).toEqual([]);
    expect(result.Successful.map((s) => s.Id).sort()).toEqual(['m0', 'm1', 'm2', 'm3']);
    expect(result.Successful.every((s) => typeof s.MessageId === 'string')).toBe(true);

    const received = await sqs.client().send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    const byBody = new Map((received.Messages ?? []).map((m) => [m.Body, m]));
    expect([...byBody.keys()].sort()).toEqual(entries.map((e) => e.MessageBody).sort());
    expect(byBody.get(gzipped)?.MessageAttributes?.[CONTENT_ENCODING_ATTRIBUTE]).toMatchObject({
      DataType: 'String',
      StringValue: 'gzip',
    });
    expect(byBody.get(entries[0]?.MessageBody)?.MessageAttributes).toBeUndefined();
  });

  it('reports per-entry failures with their code and sender fault', async () => {
    const queueUrl = await sqs.createQueue('client-partial');
    const result = await client.sendMessageBatch(queueUrl, [
      { Id: 'good', MessageBody: 'ok' },
      { Id: 'bad', MessageBody: 'control \u0001 character' },
    ]);
    expect(result.Successful.map((s) => s.Id)).toEqual(['good']);
    expect(result.Failed).toEqual([
      { Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents', Message: expect.any(String) },
    ]);
  });

  it('sends a single message', async () => {
    const queueUrl = await sqs.createQueue('client-single');
    await client.sendMessage(queueUrl, 'one', { a: { DataType: 'String', StringValue: 'b' } });
    const received = await sqs.client().send(new ReceiveMessageCommand({ QueueUrl: queueUrl }));
    expect(received.Messages?.[0]?.Body).toBe('one');
  });

  it('reads MaximumMessageSize', async () => {
    const queueUrl = await sqs.createQueue('client-attributes', { MaximumMessageSize: '262144' });
    expect(await client.getQueueAttributes(queueUrl, ['MaximumMessageSize'])).toEqual({
      MaximumMessageSize: '262144',
    });
  });

  it('names the error of a queue that does not exist', async () => {
    const error = await rejection(
      client.getQueueAttributes(`${sqs.endpoint}/000000000000/no-such-queue`, ['MaximumMessageSize']),
    );
    expect(error).toBeInstanceOf(SqsError);
    expect(error).toMatchObject({
      name: 'QueueDoesNotExist',
      status: 400,
      senderFault: true,
      queryErrorCode: 'AWS.SimpleQueueService.NonExistentQueue',
      message: 'The specified queue does not exist.',
    });
  });

  it('names a batch over the size limit BatchRequestTooLong', async () => {
    const queueUrl = await sqs.createQueue('client-too-long');
    const big = 'x'.repeat(600 * 1024);
    const error = await rejection(
      client.sendMessageBatch(queueUrl, [
        { Id: 'a', MessageBody: big },
        { Id: 'b', MessageBody: big },
      ]),
    );
    expect(error).toMatchObject({ name: 'BatchRequestTooLong', status: 400 });
  });
});

describe('SqsClient when the network fails', () => {
  it('rejects at once when nothing listens on the port', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as AddressInfo;
    await new Promise((resolve) => probe.close(resolve));

    const refused = new SqsClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}`, credentials });
    const started = Date.now();
    const error = await rejection(refused.sendMessageBatch('http://q', [{ Id: 'a', MessageBody: 'b' }]));
    refused.destroy();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error).toBeInstanceOf(SqsNetworkError);
    expect(error.name).toBe('ConnectionRefusedError');
    expect(error.message).toMatch(/^SendMessageBatch: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  });

  describe('a server that never answers', () => {
    let silent: Server;
    let endpoint: string;
    beforeAll(async () => {
      silent = createServer(() => {});
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    });

    it('times out after requestTimeoutMs', async () => {
      const slow = new SqsClient({ region: 'us-east-1', endpoint, credentials, requestTimeoutMs: 300 });
      const started = Date.now();
      const error = await rejection(slow.getQueueAttributes('http://q', ['MaximumMessageSize']));
      slow.destroy();
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(error).toMatchObject({
        name: 'RequestTimeoutError',
        message: 'GetQueueAttributes: no complete answer within 300 ms',
      });
    });

    it('stops when the caller aborts', async () => {
      const slow = new SqsClient({ region: 'us-east-1', endpoint, credentials });
      const error = await rejection(
        slow.sendMessageBatch('http://q', [{ Id: 'a', MessageBody: 'b' }], AbortSignal.timeout(100)),
      );
      slow.destroy();
      expect(error).toMatchObject({ name: 'AbortError', message: 'SendMessageBatch: aborted' });
    });
  });
});
