/**
 * What the shipper's SQS client puts on the wire and how it reads error answers, against a fake
 * HTTP server on 127.0.0.1. The signature is checked the way AWS checks it: re-signed from the
 * received headers (the signed ones only) with @smithy/signature-v4.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NodeSha256 } from '#test/support/node-sha256.ts';
import { TEST_CANARY } from '../../../../scripts/scan-canary.ts';
import { SqsClient } from '../../../../shipper/sqs/sqs-client.ts';

const CREDENTIALS = {
  accessKeyId: 'AKIDTEST',
  secretAccessKey: TEST_CANARY,
  sessionToken: `${TEST_CANARY}Session`,
};

interface Seen {
  headers: IncomingMessage['headers'];
  body: string;
  remotePort: number;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];
let nextReply: Reply = { status: 200, body: '{}' };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remotePort: req.socket.remotePort ?? 0,
      });
      res.writeHead(nextReply.status, nextReply.headers ?? { 'content-type': 'application/x-amz-json-1.0' });
      res.end(nextReply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  seen.length = 0;
  nextReply = { status: 200, body: '{}' };
});

function newClient(): SqsClient {
  return new SqsClient({ region: 'eu-west-1', endpoint, credentials: async () => CREDENTIALS });
}

async function resign(s: Seen): Promise<string> {
  const auth = String(s.headers.authorization);
  const signedNames = /SignedHeaders=([^,]+)/.exec(auth)?.[1]?.split(';') ?? [];
  const headers: Record<string, string> = {};
  for (const name of signedNames) headers[name] = String(s.headers[name]);
  const amzDate = String(s.headers['x-amz-date']);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    credentials: CREDENTIALS,
    region: 'eu-west-1',
    service: 'sqs',
    sha256: NodeSha256,
    applyChecksum: false,
  });
  const url = new URL(endpoint);
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: '/',
      query: {},
      headers,
      body: s.body,
    },
    { signingDate },
  );
  return String(signed.headers.authorization);
}

describe('SqsClient on the wire', () => {
  it('speaks AWS JSON 1.0 with a signature AWS would accept, over one kept-alive connection', async () => {
    const client = newClient();
    nextReply = { status: 200, body: '{"Successful":[{"Id":"a","MessageId":"m-1","MD5OfMessageBody":"x"}]}' };
    const result = await client.sendMessageBatch('https://sqs.eu-west-1.amazonaws.com/1/q', [
      {
        Id: 'a',
        MessageBody: 'é ✓',
        MessageAttributes: { ContentEncoding: { DataType: 'String', StringValue: 'gzip' } },
      },
    ]);
    expect(result).toEqual({ Successful: [{ Id: 'a', MessageId: 'm-1' }], Failed: [] });
    nextReply = { status: 200, body: '{"Attributes":{"MaximumMessageSize":"1048576"}}' };
    expect(
      await client.getQueueAttributes('https://sqs.eu-west-1.amazonaws.com/1/q', ['MaximumMessageSize']),
    ).toEqual({
      MaximumMessageSize: '1048576',
    });
    nextReply = { status: 200, body: '{"MessageId":"m-2"}' };
    await client.sendMessage('https://sqs.eu-west-1.amazonaws.com/1/q', 'solo');
    client.destroy();

    expect(seen.map((s) => s.headers['x-amz-target'])).toEqual([
      'AmazonSQS.SendMessageBatch',
      'AmazonSQS.GetQueueAttributes',
      'AmazonSQS.SendMessage',
    ]);
    expect(new Set(seen.map((s) => s.remotePort)).size).toBe(1);
    const [first] = seen;
    if (first === undefined) throw new Error('no request seen');
    expect(first.headers).toMatchObject({
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-query-mode': 'true',
      'x-amz-security-token': CREDENTIALS.sessionToken,
      host: new URL(endpoint).host,
      'content-length': String(Buffer.byteLength(first.body)),
    });
    expect(JSON.parse(first.body)).toEqual({
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      Entries: [
        {
          Id: 'a',
          MessageBody: 'é ✓',
          MessageAttributes: { ContentEncoding: { DataType: 'String', StringValue: 'gzip' } },
        },
      ],
    });
    expect(JSON.parse(seen[2]?.body ?? '')).toEqual({
      QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q',
      MessageBody: 'solo',
    });
    for (const s of seen) {
      expect(String(s.headers.authorization)).toMatch(
        /SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target;x-amzn-query-mode,/,
      );
      expect(String(s.headers.authorization)).toBe(await resign(s));
    }
  });

  it.each<{ case: string; reply: Reply; expected: Record<string, unknown> }>([
    {
      case: 'JSON __type and the query-compatible header',
      reply: {
        status: 400,
        headers: { 'x-amzn-query-error': 'AWS.SimpleQueueService.BatchRequestTooLong;Sender' },
        body: '{"__type":"com.amazonaws.sqs#BatchRequestTooLong","message":"too long"}',
      },
      expected: { name: 'BatchRequestTooLong', status: 400, senderFault: true, message: 'too long' },
    },
    {
      case: 'only the query-compatible header',
      reply: { status: 403, headers: { 'x-amzn-query-error': 'AccessDenied;Sender' }, body: '' },
      expected: { name: 'AccessDenied', status: 403, senderFault: true, message: 'HTTP 403' },
    },
    {
      case: 'x-amzn-errortype with a suffix',
      reply: {
        status: 500,
        headers: { 'x-amzn-errortype': 'InternalError:http://internal.amazon.com/' },
        body: '{}',
      },
      expected: { name: 'InternalError', status: 500, senderFault: false },
    },
    {
      case: 'a proxy page',
      reply: { status: 502, headers: { 'content-type': 'text/html' }, body: '<html>bad gateway</html>' },
      expected: { name: 'Http502', status: 502, senderFault: false, message: 'HTTP 502' },
    },
  ])('reads the error code from $case', async ({ reply, expected }) => {
    nextReply = reply;
    const client = newClient();
    const error = await client.getQueueAttributes('q', ['All']).catch((e: unknown) => e);
    client.destroy();
    expect(error).toMatchObject(expected);
  });

  it('cuts credentials out of an error message that echoes the canonical request', async () => {
    nextReply = {
      status: 403,
      body: JSON.stringify({
        __type: 'com.amazon.coral.service#InvalidSignatureException',
        message: `The request signature we calculated does not match. x-amz-security-token:${CREDENTIALS.sessionToken}\n`,
      }),
    };
    const client = newClient();
    const error = (await client.getQueueAttributes('q', ['All']).catch((e: unknown) => e)) as Error;
    client.destroy();
    expect(error.name).toBe('InvalidSignatureException');
    expect(error.message).toContain('x-amz-security-token:[redacted]');
    expect(error.message).not.toContain(TEST_CANARY);
  });

  it('signs with the server clock after an error answer shows the local clock is off', async () => {
    const serverNow = new Date(Date.now() + 3_600_000);
    nextReply = {
      status: 403,
      headers: { date: serverNow.toUTCString() },
      body: '{"__type":"#RequestExpired"}',
    };
    const client = newClient();
    await client.getQueueAttributes('q', ['All']).catch(() => undefined);
    nextReply = { status: 200, body: '{}' };
    await client.getQueueAttributes('q', ['All']);
    client.destroy();
    const signedAt = String(seen[1]?.headers['x-amz-date']);
    const expected = serverNow.toISOString().replace(/[-:]/g, '').slice(0, 11);
    expect(signedAt.slice(0, 11)).toBe(expected);
  });
});
