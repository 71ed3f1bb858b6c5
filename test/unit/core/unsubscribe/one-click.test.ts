/** The one-click endpoint's pure decisions: tokens, request validation, pages (docs/unsubscribe.md). */
import { describe, expect, it } from 'vitest';
import { aes256GcmCipher } from '#adapters/crypto/aes-256-gcm.ts';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import {
  decideOneClick,
  isOneClickBody,
  type OneClickSettings,
} from '#core/unsubscribe/one-click-request.ts';
import { checkOneClickToken, sealAddressToken } from '#core/unsubscribe/one-click-token.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';

const OLD = { id: 'k1', secret: 'o'.repeat(40) };
const NEW = { id: 'k2', secret: 'n'.repeat(40) };
const ids = { subscriberId: 'sb12345678901', listId: 'ls12345678901', campaignId: 'cp12345678901' };
const settings: OneClickSettings = {
  keys: [NEW, OLD],
  hmac: hmacSha256,
  cipher: aes256GcmCipher,
  listNames: { ls12345678901: 'Weekly <News>' },
};
const signed = signUnsubscribeToken(ids, NEW, hmacSha256);
const signedOld = signUnsubscribeToken(ids, OLD, hmacSha256);
const retiredKey = signUnsubscribeToken(ids, { id: 'k0', secret: 'r'.repeat(40) }, hmacSha256);
const sealed = sealAddressToken('Jane@Example.com', NEW, aes256GcmCipher);
const flip = (t: string) => `${t.slice(0, -3)}${t.at(-3) === 'a' ? 'b' : 'a'}${t.slice(-2)}`;
const URLENCODED = 'application/x-www-form-urlencoded';

describe('one-click tokens', () => {
  it.each([
    ['signed MailWizz ids (current key)', signed, { ok: true, type: 'ref', keyId: 'k2' }],
    ['signed MailWizz ids (older key still configured)', signedOld, { ok: true, keyId: 'k1' }],
    ['upper-cased by a client', signed.toUpperCase(), { ok: true, type: 'ref' }],
    ['a sealed address', sealed, { ok: true, type: 'email', address: 'jane@example.com' }],
    ['empty', '', { ok: false, status: 400 }],
    ['two ids only', 'sb12345678901.ls12345678901', { ok: false, status: 400 }],
    ['over 512 characters', 'a'.repeat(513), { ok: false, status: 400 }],
    ['unsigned while signing is on', 'sb12345678901.ls12345678901.cp12345678901', { ok: false, status: 403 }],
    ['a tampered tag', flip(signed), { ok: false, status: 403, problem: 'bad-signature' }],
    ['other ids under a valid tag', signed.replace('sb1', 'sb9'), { ok: false, status: 403 }],
    ['a key rotated out', retiredKey, { ok: false, status: 404, problem: 'retired-key' }],
    ['a tampered sealed address', flip(sealed), { ok: false, status: 403 }],
    [
      'a sealed address under a key rotated out',
      sealed.replace('e.k2.', 'e.k7.'),
      { ok: false, status: 404 },
    ],
    [
      'an opaque token that is not base64url',
      'e.k2.not/base64+at/all/but/long/enough/to/pass/length',
      { ok: false, status: 400 },
    ],
  ])('%s', (_name, token, expected) => {
    expect(checkOneClickToken(token, settings)).toMatchObject(expected);
  });

  it('a sealed token never shows the address and differs each time (fresh nonce)', () => {
    const again = sealAddressToken('jane@example.com', NEW, aes256GcmCipher);
    expect(sealed).not.toMatch(/jane|example/i);
    expect(again).not.toBe(sealed);
    expect(checkOneClickToken(again, settings)).toMatchObject({ ok: true, address: 'jane@example.com' });
  });

  it('a sealed token has one spelling: spare bits set in its last character are refused', () => {
    const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Find a token whose last character carries spare bits (its length is not a multiple of 4).
    let token = sealed;
    for (let n = 0; token.split('.')[2]!.length % 4 === 0 && n < 10; n++)
      token = sealAddressToken(`jane${n}@example.com`, NEW, aes256GcmCipher);
    const last = B64.indexOf(token.at(-1)!);
    const twin = `${token.slice(0, -1)}${B64[last ^ 1]}`;
    expect(Buffer.from(twin.split('.')[2]!, 'base64url')).toEqual(
      Buffer.from(token.split('.')[2]!, 'base64url'),
    );
    expect(checkOneClickToken(token, settings).ok).toBe(true);
    expect(checkOneClickToken(twin, settings)).toMatchObject({ ok: false, problem: 'bad-signature' });
  });

  it('without signing keys: unsigned MailWizz ids pass, opaque tokens are refused', () => {
    const open = { ...settings, keys: undefined };
    expect(checkOneClickToken('sb12345678901.ls12345678901.cp12345678901', open)).toMatchObject({ ok: true });
    expect(checkOneClickToken(sealed, open)).toMatchObject({ ok: false, status: 403 });
  });
});

describe('one-click request bodies (RFC 8058)', () => {
  const multipart = (value: string, name = 'List-Unsubscribe') =>
    `--XyZ\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n--XyZ--\r\n`;
  it.each([
    [URLENCODED, 'List-Unsubscribe=One-Click', true],
    [`${URLENCODED}; charset=utf-8`, 'List-Unsubscribe=One-Click', true],
    [URLENCODED, 'a=b&List-Unsubscribe=One-Click', true],
    [URLENCODED, 'List-Unsubscribe%3DOne-Click', false],
    [URLENCODED, 'List-Unsubscribe=One-Click-Maybe', false],
    [URLENCODED, '', false],
    [URLENCODED, '%E0%A4%A=List-Unsubscribe=One-Click', false],
    ['multipart/form-data; boundary=XyZ', multipart('One-Click'), true],
    ['multipart/form-data; boundary="XyZ"', multipart('One-Click'), true],
    ['multipart/form-data; boundary=XyZ', multipart('One-Click', 'Other'), false],
    ['multipart/form-data', multipart('One-Click'), false],
    ['text/plain', 'List-Unsubscribe=One-Click', false],
    [undefined, 'List-Unsubscribe=One-Click', false],
  ])('%s %j → %s', (type, body, expected) => {
    expect(isOneClickBody(type, body)).toBe(expected);
  });
});

describe('one-click requests', () => {
  const path = `/u/${signed}`;
  it.each([
    [
      'GET shows the page and changes nothing',
      { method: 'GET', path },
      { kind: 'page', status: 200, page: 'confirm' },
    ],
    ['HEAD likewise', { method: 'HEAD', path }, { kind: 'page', status: 200 }],
    [
      'POST with the RFC 8058 body unsubscribes',
      { method: 'POST', path, contentType: URLENCODED, body: 'List-Unsubscribe=One-Click' },
      { kind: 'unsubscribe', list: 'Weekly <News>' },
    ],
    [
      'POST without it: 400',
      { method: 'POST', path, contentType: URLENCODED, body: 'x=1' },
      { kind: 'page', status: 400 },
    ],
    ['PUT: 405', { method: 'PUT', path }, { kind: 'page', status: 405 }],
    ['another path: 404', { method: 'GET', path: '/x' }, { kind: 'page', status: 404 }],
    [
      'malformed: 400',
      { method: 'POST', path: '/u/nope', contentType: URLENCODED, body: 'List-Unsubscribe=One-Click' },
      { status: 400 },
    ],
    [
      'tampered: 403',
      {
        method: 'POST',
        path: `/u/${flip(signed)}`,
        contentType: URLENCODED,
        body: 'List-Unsubscribe=One-Click',
      },
      { status: 403 },
    ],
    ['retired key: 404', { method: 'GET', path: `/u/${retiredKey}` }, { status: 404, page: 'invalid' }],
  ])('%s', (_name, request, expected) => {
    expect(decideOneClick({ body: '', ...request }, settings)).toMatchObject(expected);
  });
});
