/**
 * Standard Webhooks v1 signatures (docs/provider-apis.md §3): base64 HMAC-SHA256 over
 * `${id}.${timestamp}.${body}`, keyed by the base64-decoded secret (without its `whsec_` prefix).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const SECRET_PREFIX = 'whsec_';

function decodeWebhookSecret(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  return Buffer.from(encoded, 'base64');
}

interface WebhookSignatureInput {
  secret: string;
  id: string;
  /** Unix seconds. */
  timestamp: number;
  /** The raw body exactly as sent. */
  body: string;
}

/** The `webhook-signature` header value: `v1,<base64>`. */
function signWebhook(input: WebhookSignatureInput): string {
  const mac = createHmac('sha256', decodeWebhookSecret(input.secret))
    .update(`${input.id}.${input.timestamp}.${input.body}`, 'utf8')
    .digest('base64');
  return `v1,${mac}`;
}

/** True when one of the space-separated `v1,` signatures matches (constant-time compare). */
function webhookSignatureMatches(input: WebhookSignatureInput, header: string): boolean {
  const expected = Buffer.from(signWebhook(input));
  return header
    .split(' ')
    .filter((s) => s.startsWith('v1,'))
    .some((candidate) => {
      const given = Buffer.from(candidate);
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
}

export type { WebhookSignatureInput };
export { decodeWebhookSecret, signWebhook, webhookSignatureMatches };
