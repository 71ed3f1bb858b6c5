/**
 * The one-click token parser on hostile input: never throws, answers only 400/403/404 for what we
 * did not sign, accepts only what we did, in bounded time (docs/security.md, "One-click HTTP").
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aes256GcmCipher } from '#adapters/crypto/aes-256-gcm.ts';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { decideOneClick, isOneClickBody } from '#core/unsubscribe/one-click-request.ts';
import { checkOneClickToken, sealAddressToken } from '#core/unsubscribe/one-click-token.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';
import { runs } from './fuzz-runs.ts';

const KEY = { id: 'k1', secret: 'z'.repeat(40) };
const settings = { keys: [KEY], hmac: hmacSha256, cipher: aes256GcmCipher, listNames: {} };
const uid = fc.stringMatching(/^[a-z0-9]{13}$/);
const tokenish = fc.oneof(
  fc.string({ maxLength: 600 }),
  fc.string({ unit: fc.constantFrom('a', '0', '.', 'e', 'k', '1', '-', '_', 'Z', '%'), maxLength: 120 }),
  fc.tuple(uid, uid, uid, fc.string({ maxLength: 30 })).map((p) => p.join('.')),
  fc.string({ maxLength: 200 }).map((s) => `e.k1.${Buffer.from(s).toString('base64url')}`),
);

describe('one-click token parser (fuzz)', () => {
  it('random tokens: never accepted, never thrown, always 400/403/404', () => {
    fc.assert(
      fc.property(tokenish, (token) => {
        const check = checkOneClickToken(token, settings);
        expect(check.ok).toBe(false);
        if (!check.ok) expect([400, 403, 404]).toContain(check.status);
      }),
      { numRuns: runs() },
    );
  });

  it('every signed token is accepted with its ids; any one-character change is refused', () => {
    fc.assert(
      fc.property(uid, uid, uid, fc.nat(), fc.constantFrom('a', 'b', '0', '7'), (s, l, c, at, ch) => {
        const token = signUnsubscribeToken({ subscriberId: s, listId: l, campaignId: c }, KEY, hmacSha256);
        expect(checkOneClickToken(token, settings)).toMatchObject({
          ok: true,
          ref: { subscriberId: s, listId: l },
        });
        const i = at % token.length;
        if (token[i] === ch || token[i] === '.') return;
        const changed = `${token.slice(0, i)}${ch}${token.slice(i + 1)}`;
        expect(checkOneClickToken(changed, settings).ok).toBe(false);
      }),
      { numRuns: runs() },
    );
  });

  it('sealed addresses round-trip; any changed character is refused', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.nat(), (email, at) => {
        const token = sealAddressToken(email, KEY, aes256GcmCipher);
        expect(checkOneClickToken(token, settings)).toMatchObject({ ok: true, address: email.toLowerCase() });
        const i = 5 + (at % (token.length - 5));
        const ch = token[i] === 'A' ? 'B' : 'A';
        expect(checkOneClickToken(`${token.slice(0, i)}${ch}${token.slice(i + 1)}`, settings).ok).toBe(false);
      }),
      { numRuns: runs(0.5) },
    );
  });

  it('random requests and bodies: GET/HEAD never unsubscribe; nothing throws', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'get'),
        tokenish,
        fc.option(
          fc.constantFrom(
            'application/x-www-form-urlencoded',
            'multipart/form-data; boundary=b',
            'text/plain',
          ),
        ),
        fc.string({ maxLength: 400 }),
        (method, token, contentType, body) => {
          const decision = decideOneClick(
            { method, path: `/u/${token}`, contentType: contentType ?? undefined, body },
            settings,
          );
          expect(decision.kind).toBe('page');
          isOneClickBody(contentType ?? undefined, body);
        },
      ),
      { numRuns: runs() },
    );
    expect(
      isOneClickBody(
        'multipart/form-data; boundary=b',
        `--b\r\n${'Content-Disposition: form-data; '.repeat(250)}`,
      ),
    ).toBe(false);
    expect(checkOneClickToken(`${'a.'.repeat(255)}`, settings)).toMatchObject({ ok: false, status: 400 });
  });
});
