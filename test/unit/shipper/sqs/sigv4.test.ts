import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { NodeSha256 } from '#test/support/node-sha256.ts';
import { signRequest } from '../../../../shipper/sqs/sigv4.ts';

/** AWS's published example keys (SigV4 test suite), never real ones. */
const EXAMPLE = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const SUITE_DATE = new Date('2015-08-30T12:36:00Z');

interface SqsCase {
  case: string;
  url: string;
  region: string;
  date: string;
  body: string;
  sessionToken?: string;
  extraHeaders?: Record<string, string>;
}

const sqsCases: SqsCase[] = [
  {
    case: 'SendMessageBatch, long-term keys',
    url: 'https://sqs.eu-west-1.amazonaws.com/',
    region: 'eu-west-1',
    date: '2026-11-26T10:11:12.345Z',
    body: JSON.stringify({ QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', Entries: [] }),
  },
  {
    case: 'session token',
    url: 'https://sqs.us-east-1.amazonaws.com/',
    region: 'us-east-1',
    date: '2027-02-28T23:59:59Z',
    body: '{"QueueUrl":"x","MessageBody":"b"}',
    sessionToken: 'FwoGZXIvYXdzEXAMPLE//token+with/slashes==',
  },
  {
    case: 'non-ASCII body',
    url: 'https://sqs.ap-southeast-2.amazonaws.com/',
    region: 'ap-southeast-2',
    date: '2026-01-01T00:00:00Z',
    body: JSON.stringify({ MessageBody: 'Grüße, 東京 ✓ 😀 "quoted" \\ \u0001' }),
  },
  {
    case: 'query string and a port',
    url: 'http://127.0.0.1:4566/some/path/?b=2&a=x%20y&a=w&empty=&c=%E2%9C%93',
    region: 'us-west-2',
    date: '2026-06-15T08:30:00Z',
    body: '',
  },
  {
    case: 'China region, header whitespace, empty JSON',
    url: 'https://sqs.cn-north-1.amazonaws.com.cn/',
    region: 'cn-north-1',
    date: '2026-03-04T05:06:07Z',
    body: '{}',
    extraHeaders: { 'x-amz-meta-spaced': '  a   b\tc  ' },
  },
];

function splitUrl(url: URL): { path: string; query: Record<string, string | string[]> } {
  const query: Record<string, string | string[]> = {};
  for (const [k, v] of url.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return { path: url.pathname, query };
}

describe('signRequest', () => {
  it.each(sqsCases)('matches @smithy/signature-v4: $case', async (c) => {
    const credentials = c.sessionToken ? { ...EXAMPLE, sessionToken: c.sessionToken } : EXAMPLE;
    const url = new URL(c.url);
    const headers = {
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'AmazonSQS.SendMessageBatch',
      'x-amzn-query-mode': 'true',
      ...c.extraHeaders,
    };
    const date = new Date(c.date);
    const ours = signRequest(
      { method: 'POST', url: c.url, headers, body: Buffer.from(c.body, 'utf8') },
      { region: c.region, service: 'sqs', credentials, date },
    );

    // The SDK sends no x-amz-content-sha256 to SQS; applyChecksum: false keeps that header out.
    const sdk = new SignatureV4({
      credentials,
      region: c.region,
      service: 'sqs',
      sha256: NodeSha256,
      applyChecksum: false,
    });
    const signed = await sdk.sign(
      {
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        port: url.port === '' ? undefined : Number(url.port),
        ...splitUrl(url),
        headers: { host: url.host, ...headers },
        body: c.body,
      },
      { signingDate: date },
    );
    expect(ours.authorization).toBe(signed.headers.authorization);
    expect(ours['x-amz-date']).toBe(signed.headers['x-amz-date']);
    expect(ours['x-amz-security-token']).toBe(signed.headers['x-amz-security-token']);
    expect(ours.authorization).toContain('host;');
  });

  // Vectors from the AWS SigV4 test suite (get-vanilla, post-vanilla, get-vanilla-query-order-key-case)
  // and the IAM ListUsers example of the AWS General Reference.
  it.each<{
    case: string;
    method: string;
    url: string;
    service: string;
    headers: Record<string, string>;
    signature: string;
  }>([
    {
      case: 'get-vanilla',
      method: 'GET',
      url: 'https://example.amazonaws.com/',
      service: 'service',
      headers: {},
      signature: '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31',
    },
    {
      case: 'post-vanilla',
      method: 'POST',
      url: 'https://example.amazonaws.com/',
      service: 'service',
      headers: {},
      signature: '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b',
    },
    {
      case: 'get-vanilla-query-order-key-case',
      method: 'GET',
      url: 'https://example.amazonaws.com/?Param2=value2&Param1=value1',
      service: 'service',
      headers: {},
      signature: 'b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500',
    },
    {
      case: 'IAM ListUsers example',
      method: 'GET',
      url: 'https://iam.amazonaws.com/?Action=ListUsers&Version=2010-05-08',
      service: 'iam',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
      signature: '5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7',
    },
  ])('reproduces the published vector $case', ({ method, url, service, headers, signature }) => {
    const out = signRequest(
      { method, url, headers, body: '' },
      { region: 'us-east-1', service, credentials: EXAMPLE, date: SUITE_DATE },
    );
    expect(out.authorization).toMatch(
      new RegExp(`Credential=AKIDEXAMPLE/20150830/us-east-1/${service}/aws4_request`),
    );
    expect(out.authorization.endsWith(`Signature=${signature}`)).toBe(true);
    expect(out['x-amz-date']).toBe('20150830T123600Z');
  });

  it('does not put the secret in any header it returns', () => {
    const out = signRequest(
      { method: 'POST', url: 'https://sqs.us-east-1.amazonaws.com/', headers: {}, body: 'x' },
      { region: 'us-east-1', service: 'sqs', credentials: EXAMPLE, date: SUITE_DATE },
    );
    expect(JSON.stringify(out)).not.toContain(EXAMPLE.secretAccessKey);
    expect(out['x-amz-security-token']).toBeUndefined();
  });

  it('gives the same signature from the cached signing key and for a new day a new one', () => {
    const request = { method: 'POST', url: 'https://sqs.us-east-1.amazonaws.com/', headers: {}, body: 'x' };
    const scope = { region: 'us-east-1', service: 'sqs', credentials: EXAMPLE, date: SUITE_DATE };
    const first = signRequest(request, scope).authorization;
    expect(signRequest(request, scope).authorization).toBe(first);
    const nextDay = signRequest(request, { ...scope, date: new Date('2015-08-31T12:36:00Z') }).authorization;
    expect(nextDay).toContain('/20150831/');
  });
});
