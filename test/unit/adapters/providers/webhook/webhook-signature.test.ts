import { describe, expect, it } from 'vitest';
import { signWebhook, webhookSignatureMatches } from '#providers/webhook/webhook-signature.ts';

// docs/provider-apis.md §3 test vector.
const VECTOR = {
  secret: 'whsec_dGhpcy1pcy1hLTI0K2J5dGUtdGVzdC1rZXkhIQ==',
  id: 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W',
  timestamp: 1700000000,
  body: '{"type":"subscriber.unsubscribed","timestamp":"2024-01-01T00:00:00Z","data":{"email":"john@example.com","list":"ab123cd45ef67"}}',
};

describe('Standard Webhooks signature', () => {
  it('matches the docs/provider-apis.md §3 test vector', () => {
    expect(signWebhook(VECTOR)).toBe('v1,ZwjH3E2EEQXkNogdtIwFoV0RG/mTKiza7aR+SN4sv1k=');
  });

  it('accepts the secret without its whsec_ prefix', () => {
    expect(signWebhook({ ...VECTOR, secret: VECTOR.secret.slice(6) })).toBe(signWebhook(VECTOR));
  });

  it.each([
    { case: 'the body', change: { body: `${VECTOR.body} ` } },
    { case: 'the id', change: { id: 'msg_other' } },
    { case: 'the timestamp', change: { timestamp: 1700000001 } },
  ])('changes with $case', ({ change }) => {
    expect(signWebhook({ ...VECTOR, ...change })).not.toBe(signWebhook(VECTOR));
  });

  it('verifies one of several space-separated signatures (key rotation)', () => {
    const header = `v1,bm90LXRoaXMtb25l ${signWebhook(VECTOR)}`;
    expect(webhookSignatureMatches(VECTOR, header)).toBe(true);
    expect(webhookSignatureMatches(VECTOR, 'v1,bm90LXRoaXMtb25l')).toBe(false);
    expect(webhookSignatureMatches(VECTOR, signWebhook(VECTOR).replace('v1,', 'v2,'))).toBe(false);
  });
});
