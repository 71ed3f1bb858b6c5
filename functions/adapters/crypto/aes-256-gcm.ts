/**
 * The AddressCipher port of core/unsubscribe/one-click-token.ts on node:crypto: AES-256-GCM with a
 * fresh 96-bit nonce per token and a key derived from the signing secret with HKDF-SHA256 under its
 * own label, so the HMAC key and the encryption key are never the same bytes.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { AddressCipher } from '#core/unsubscribe/one-click-token.ts';

const NONCE = 12;
const TAG = 16;
const INFO = 'pmta-bounce one-click address v1';
const AAD = Buffer.from('pmta-bounce-one-click-v1');

const derived = new Map<string, Buffer>();

function keyOf(secret: string): Buffer {
  let key = derived.get(secret);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', secret, '', INFO, 32));
    derived.set(secret, key);
  }
  return key;
}

const aes256GcmCipher: AddressCipher = {
  seal(secret, plaintext) {
    const nonce = randomBytes(NONCE);
    const cipher = createCipheriv('aes-256-gcm', keyOf(secret), nonce, { authTagLength: TAG });
    cipher.setAAD(AAD);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return Buffer.concat([nonce, body, cipher.getAuthTag()]).toString('base64url');
  },
  open(secret, sealed) {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < NONCE + TAG + 1 || bytes.length > 1024) return undefined;
    // One spelling per token: base64url's last character carries spare bits a decoder ignores, so
    // a changed one would decode to the same bytes (found by the token fuzz test).
    if (bytes.toString('base64url') !== sealed) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', keyOf(secret), bytes.subarray(0, NONCE), {
        authTagLength: TAG,
      });
      decipher.setAAD(AAD);
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG));
      const text = Buffer.concat([
        decipher.update(bytes.subarray(NONCE, bytes.length - TAG)),
        decipher.final(),
      ]);
      return text.toString('utf8');
    } catch {
      return undefined;
    }
  },
};

export { aes256GcmCipher };
