/**
 * AWS Signature Version 4 for one HTTP request, header form (the Authorization header, not a
 * presigned URL). Only node:crypto: the shipper must not pull in the SDK's signer.
 */
import { createHash, createHmac } from 'node:crypto';
import type { AwsCredentials } from '../credentials/aws-credential-source.ts';

interface SignableRequest {
  method: string;
  url: URL | string;
  /** Headers to sign besides host (always signed, taken from the URL when absent). */
  headers: Record<string, string>;
  /** The payload, or its pieces in order (hashed one after the other, never joined). */
  body: Buffer | string | readonly (Buffer | string)[];
}

interface SigningScope {
  region: string;
  service: string;
  credentials: Pick<AwsCredentials, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>;
  date: Date;
}

/** What to add to the request; names in lower case, as signed. */
interface SigV4Headers {
  authorization: string;
  'x-amz-date': string;
  'x-amz-security-token'?: string;
}

/** Headers the SDK signer never signs either: proxies and clients may rewrite them. */
const UNSIGNED_HEADERS = new Set([
  'authorization',
  'connection',
  'expect',
  'keep-alive',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'user-agent',
  'x-amzn-trace-id',
]);

/** RFC 3986 unreserved characters stay; everything else is %XX (upper-case hex) of its UTF-8. */
function escapeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The URL path arrives percent-encoded; SigV4 (for every service but S3) encodes it once more,
 * after dropping empty, "." and ".." segments.
 */
function canonicalPath(pathname: string): string {
  const segments: string[] = [];
  for (const segment of pathname.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && pathname.endsWith('/') ? '/' : '';
  return `/${segments.map(escapeRfc3986).join('/')}${trailing}`;
}

/** Pairs sorted by encoded key, then encoded value. A '+' in the URL is taken literally. */
function canonicalQuery(search: string): string {
  const pairs: Array<[key: string, value: string]> = [];
  for (const part of search.slice(1).split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    pairs.push([escapeRfc3986(decodeURIComponent(key)), escapeRfc3986(decodeURIComponent(value))]);
  }
  pairs.sort(([ak, av], [bk, bv]) => (ak === bk ? compareCodeUnits(av, bv) : compareCodeUnits(ak, bk)));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function payloadHash(body: SignableRequest['body']): string {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return sha256Hex(body);
  const hash = createHash('sha256');
  for (const piece of body) hash.update(piece);
  return hash.digest('hex');
}

function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** yyyymmddThhmmssZ */
function amzDate(date: Date): string {
  return date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

/**
 * The derived key changes once a day per secret, region and service; deriving it is four HMACs,
 * so a sender signing thousands of requests keeps the few it uses. Small and bounded: a box uses
 * one secret at a time, two around a credential rotation.
 */
const signingKeys = new Map<string, Buffer>();
const MAX_SIGNING_KEYS = 8;

function signingKey(secret: string, day: string, region: string, service: string): Buffer {
  const cacheKey = `${day}\n${region}\n${service}\n${secret}`;
  const cached = signingKeys.get(cacheKey);
  if (cached !== undefined) return cached;
  const kDate = createHmac('sha256', `AWS4${secret}`).update(day).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  const key = createHmac('sha256', kService).update('aws4_request').digest();
  if (signingKeys.size >= MAX_SIGNING_KEYS) signingKeys.clear();
  signingKeys.set(cacheKey, key);
  return key;
}

/**
 * Signs a request and returns the headers to add to it: `authorization`, `x-amz-date` and, with
 * temporary credentials, `x-amz-security-token`. The request must then be sent with exactly the
 * signed headers' values (and the same host) or AWS answers SignatureDoesNotMatch.
 */
function signRequest(request: SignableRequest, scope: SigningScope): SigV4Headers {
  const url = typeof request.url === 'string' ? new URL(request.url) : request.url;
  const date = amzDate(scope.date);
  const day = date.slice(0, 8);
  const token = scope.credentials.sessionToken;
  const added: Record<string, string> = token
    ? { 'x-amz-date': date, 'x-amz-security-token': token }
    : { 'x-amz-date': date };

  const headers = new Map<string, string>();
  headers.set('host', url.host);
  for (const [name, value] of Object.entries({ ...request.headers, ...added })) {
    const lower = name.toLowerCase();
    if (UNSIGNED_HEADERS.has(lower)) continue;
    headers.set(lower, value.replace(/\s+/g, ' ').trim());
  }
  const names = [...headers.keys()].sort(compareCodeUnits);
  const signedHeaders = names.join(';');
  const canonicalRequest = [
    request.method.toUpperCase(),
    canonicalPath(url.pathname),
    canonicalQuery(url.search),
    `${names.map((n) => `${n}:${headers.get(n)}`).join('\n')}\n`,
    signedHeaders,
    payloadHash(request.body),
  ].join('\n');

  const credentialScope = `${day}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${date}\n${credentialScope}\n${sha256Hex(canonicalRequest)}`;
  const key = signingKey(scope.credentials.secretAccessKey, day, scope.region, scope.service);
  const signature = createHmac('sha256', key).update(stringToSign).digest('hex');
  const out: SigV4Headers = {
    authorization:
      `AWS4-HMAC-SHA256 Credential=${scope.credentials.accessKeyId}/${credentialScope}, ` +
      `SignedHeaders=${signedHeaders}, Signature=${signature}`,
    'x-amz-date': date,
  };
  if (token) out['x-amz-security-token'] = token;
  return out;
}

export type { SignableRequest, SigningScope, SigV4Headers };
export { signRequest };
