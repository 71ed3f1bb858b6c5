import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { signUnsubscribeToken, verifyUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';

const IDS = { subscriberId: 'ab12cd34ef567', listId: 'lq981kz0aa2bc', campaignId: 'cmp00000000zz' };
const K1 = { id: 'k1', secret: 'first-secret-of-at-least-32-characters' };
const K2 = { id: '2', secret: 'second-secret-of-at-least-32-characters' };

/** The tag written out by hand from docs/unsubscribe.md, with node:crypto and RFC 4648 base32. */
function expectedTag(key: { id: string; secret: string }): string {
  const mac = createHmac('sha256', key.secret)
    .update('pmta-bounce-unsubscribe-v1:ab12cd34ef567.lq981kz0aa2bc.cmp00000000zz')
    .digest();
  let bits = '';
  for (const byte of mac) bits += byte.toString(2).padStart(8, '0');
  let out = '';
  for (let i = 0; i < 100; i += 5)
    out += 'abcdefghijklmnopqrstuvwxyz234567'[Number.parseInt(bits.slice(i, i + 5), 2)];
  return `${key.id}${out}`;
}

describe('signed unsubscribe token', () => {
  const token = signUnsubscribeToken(IDS, K1, hmacSha256);

  it('is the three uids and key id + 100 bits of HMAC-SHA256 in base32, 64 characters at most', () => {
    expect(token).toBe(`ab12cd34ef567.lq981kz0aa2bc.cmp00000000zz.${expectedTag(K1)}`);
    expect(signUnsubscribeToken(IDS, K2, hmacSha256)).toBe(
      `ab12cd34ef567.lq981kz0aa2bc.cmp00000000zz.${expectedTag(K2)}`,
    );
    expect(token.length).toBe(64);
    expect(token).toMatch(/^[a-z0-9.]+$/);
  });

  it.each([
    { case: 'signed, one key', token: () => token, keys: [K1], ok: true },
    { case: 'signed with the old key during rotation', token: () => token, keys: [K2, K1], ok: true },
    { case: 'signed, no signing configured: tag not checked', token: () => token, keys: undefined, ok: true },
    { case: 'untagged, no signing', token: () => token.slice(0, 41), keys: undefined, ok: true },
    { case: 'untagged, signing on', token: () => token.slice(0, 41), keys: [K1], problem: 'unsigned' },
    { case: 'key retired', token: () => token, keys: [K2], problem: 'unknown-key' },
    {
      case: 'one character of the mac changed',
      token: () => `${token.slice(0, -1)}${token.endsWith('a') ? 'b' : 'a'}`,
      keys: [K1],
      problem: 'bad-tag',
    },
    {
      case: 'tag moved to another subscriber',
      token: () => `zz12cd34ef567${token.slice(13)}`,
      keys: [K1],
      problem: 'bad-tag',
    },
    { case: 'tag without mac', token: () => `${token.slice(0, 41)}.k1`, keys: [K1], problem: 'unknown-key' },
    { case: 'two uids only', token: () => 'ab12cd34ef567.lq981kz0aa2bc', keys: [K1], problem: 'malformed' },
    { case: 'five parts', token: () => `${token}.x`, keys: [K1], problem: 'malformed' },
    {
      case: 'upper case uid',
      token: () => `AB12cd34ef567${token.slice(13)}`,
      keys: [K1],
      problem: 'malformed',
    },
  ])('$case', ({ token: make, keys, ok, problem }) => {
    const check = verifyUnsubscribeToken(make(), keys, hmacSha256);
    if (ok) expect(check).toMatchObject({ ok: true, ids: IDS });
    else expect(check).toMatchObject({ ok: false, problem });
  });
});
