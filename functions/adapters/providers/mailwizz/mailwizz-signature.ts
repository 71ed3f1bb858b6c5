/**
 * MailWizz 1.x request signature (docs/provider-apis.md §1.2): HMAC-SHA1 over
 * `METHOD url[?sorted query](?|&)sorted(X-MW-* headers + body params)`, keyed by the private key.
 * Used by the client to sign and by the fake server to verify what it received.
 */
import { createHmac } from 'node:crypto';
import { buildSortedQuery, type FormParams } from './php-form-encoding.ts';

interface MailwizzSignatureInput {
  method: string;
  /** Absolute endpoint URL without query string and without a trailing slash. */
  url: string;
  /** Query (GET) parameters; they go into the URL part, not into P. */
  query: FormParams;
  /** Form body parameters (POST/PUT/DELETE). */
  body: FormParams;
  publicKey: string;
  /** Unix seconds. */
  timestamp: number | string;
  remoteAddr?: string;
}

function mailwizzStringToSign(input: MailwizzSignatureInput): string {
  const query = buildSortedQuery(input.query);
  const url = query ? `${input.url}?${query}` : input.url;
  const signed = buildSortedQuery({
    ...input.body,
    'X-MW-PUBLIC-KEY': input.publicKey,
    'X-MW-TIMESTAMP': String(input.timestamp),
    'X-MW-REMOTE-ADDR': input.remoteAddr ?? '',
  });
  const separator = query ? '&' : '?';
  return `${input.method.toUpperCase()} ${url}${separator}${signed}`;
}

function signMailwizzRequest(input: MailwizzSignatureInput, privateKey: string): string {
  return createHmac('sha1', privateKey).update(mailwizzStringToSign(input), 'utf8').digest('hex');
}

export type { MailwizzSignatureInput };
export { mailwizzStringToSign, signMailwizzRequest };
