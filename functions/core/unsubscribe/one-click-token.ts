/**
 * The path token of the one-click endpoint `/u/{token}` (docs/unsubscribe.md, "One-click"):
 * - the MailWizz form `{subscriberUid}.{listUid}.{campaignUid}[.{tag}]`, the same ids and HMAC tag
 *   as the signed mailto addresses (unsubscribe-token.ts), so one key set and one rotation serve both;
 * - an opaque token `e.{keyId}.{sealed}` for any other sender: the address sealed with AES-256-GCM
 *   under a key derived from signing key `keyId` (the AddressCipher port: core does no crypto), so
 *   no address ever appears in a URL or a log.
 * Answers: malformed → 400, bad signature → 403, a key no longer configured → 404 ("this link is no
 * longer valid"). Pure; linear in the token (bounded to MAX_TOKEN first, no backtracking patterns).
 */
import { normalizeAddress } from '../email-address.ts';
import type { SubscriberRef } from '../mail-event.ts';
import type { HmacSha256 } from '../ports.ts';
import { type SigningKey, verifyUnsubscribeToken } from './unsubscribe-token.ts';

/** Seals and opens a short text under a signing key's secret (AES-256-GCM in the adapter). */
interface AddressCipher {
  /** base64url of nonce + ciphertext + tag; the adapter draws the nonce. */
  seal(secret: string, plaintext: string): string;
  /** The plaintext, or undefined when the tag does not verify (tampered, other key, garbage). */
  open(secret: string, sealed: string): string | undefined;
}

type OneClickTarget =
  | { type: 'ref'; ref: SubscriberRef; keyId: string | undefined }
  | { type: 'email'; address: string; keyId: string };

type TokenProblem = {
  status: 400 | 403 | 404;
  problem: 'malformed' | 'bad-signature' | 'retired-key';
  reason: string;
};

type OneClickTokenCheck = ({ ok: true } & OneClickTarget) | ({ ok: false } & TokenProblem);

interface OneClickKeys {
  /** unsubscribe.signing.keys; absent = unsigned MailWizz tokens accepted, opaque ones refused. */
  keys?: readonly SigningKey[] | undefined;
  hmac: HmacSha256;
  cipher: AddressCipher;
}

/** 64 for the MailWizz form; an opaque token of a 254-character address is about 400. */
const MAX_TOKEN = 512;
const OPAQUE_PREFIX = 'e.';
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const KEY_ID = /^[a-z0-9]{1,2}$/;

const malformed = (reason: string): OneClickTokenCheck => ({
  ok: false,
  status: 400,
  problem: 'malformed',
  reason,
});
const forged = (reason: string): OneClickTokenCheck => ({
  ok: false,
  status: 403,
  problem: 'bad-signature',
  reason,
});
const retired = (): OneClickTokenCheck => ({
  ok: false,
  status: 404,
  problem: 'retired-key',
  reason: 'the key that signed this link is no longer configured',
});

function checkMailwizzToken(token: string, keys: OneClickKeys): OneClickTokenCheck {
  const check = verifyUnsubscribeToken(token.toLowerCase(), keys.keys, keys.hmac);
  if (check.ok)
    return { ok: true, type: 'ref', ref: { providerType: 'mailwizz', ...check.ids }, keyId: check.keyId };
  if (check.problem === 'malformed') return malformed(check.reason);
  if (check.problem === 'unknown-key') {
    // A tag of the right shape under an id we no longer hold is a rotated-out key: the link expired.
    const tag = token.split('.')[3] ?? '';
    return tag.length > 20 && KEY_ID.test(tag.slice(0, -20)) ? retired() : forged(check.reason);
  }
  return forged(check.reason);
}

function checkOpaqueToken(token: string, keys: OneClickKeys): OneClickTokenCheck {
  const [, keyId = '', sealed = '', extra] = token.split('.', 4);
  if (extra !== undefined || !KEY_ID.test(keyId) || sealed.length < 40 || !BASE64URL.test(sealed))
    return malformed('not e.<keyId>.<base64url>');
  const key = keys.keys?.find((k) => k.id === keyId);
  if (!keys.keys || keys.keys.length === 0) return forged('opaque tokens need unsubscribe.signing');
  if (!key) return retired();
  const plaintext = keys.cipher.open(key.secret, sealed);
  if (plaintext === undefined) return forged('sealed address does not verify');
  const address = normalizeAddress(plaintext);
  // A sealed non-address can only come from a holder of our key: still refuse it, never act on it.
  if (!address.ok) return forged('sealed text is not an address');
  return { ok: true, type: 'email', address: address.address, keyId };
}

function checkOneClickToken(token: string, keys: OneClickKeys): OneClickTokenCheck {
  if (token.length === 0) return malformed('empty token');
  if (token.length > MAX_TOKEN) return malformed(`token longer than ${MAX_TOKEN} characters`);
  if (token.startsWith(OPAQUE_PREFIX)) return checkOpaqueToken(token, keys);
  return checkMailwizzToken(token, keys);
}

/** The opaque token of `address` under the first (signing) key. */
function sealAddressToken(address: string, key: SigningKey, cipher: AddressCipher): string {
  const normal = normalizeAddress(address);
  if (!normal.ok) throw new Error(`cannot seal: ${normal.reason}`);
  return `${OPAQUE_PREFIX}${key.id}.${cipher.seal(key.secret, normal.address)}`;
}

export type { AddressCipher, OneClickKeys, OneClickTarget, OneClickTokenCheck, TokenProblem };
export { checkOneClickToken, MAX_TOKEN, sealAddressToken };
