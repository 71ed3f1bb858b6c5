/**
 * The signed unsubscribe token `{subscriberUid}.{listUid}.{campaignUid}.{tag}` (docs/unsubscribe.md,
 * "Signed addresses"): the local part of a mailto unsubscribe address, and the path token of the
 * one-click endpoint. `tag` = key id + the first 20 base32 characters (100 bits) of
 * HMAC-SHA256(key, "pmta-bounce-unsubscribe-v1:" + ids), so 3 × 13 + 3 + 2 + 20 = 64 characters at
 * most: the RFC 5321 limit of a local part. Lower-case only: PowerMTA lower-cases `$to`.
 *
 * Pure: the MAC is a port (core does no crypto); comparison is constant-time here.
 */

import type { HmacSha256 } from '../ports.ts';

interface SigningKey {
  /** 1 or 2 characters [a-z0-9]: names the key inside the tag, so keys can rotate. */
  id: string;
  secret: string;
}

interface TokenIds {
  subscriberId: string;
  listId: string;
  campaignId: string;
}

type TokenCheck =
  | { ok: true; ids: TokenIds; keyId: string | undefined }
  | { ok: false; problem: 'malformed' | 'unsigned' | 'unknown-key' | 'bad-tag'; reason: string };

const MAC_CHARS = 20;
const DOMAIN = 'pmta-bounce-unsubscribe-v1:';
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const KEY_ID = /^[a-z0-9]{1,2}$/;
const UID = /^[a-z0-9]{13}$/;

/** The first `chars` characters of the RFC 4648 base32 of `bytes`, lower-case, no padding. */
function base32(bytes: Uint8Array, chars: number): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < chars) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
    if (out.length >= chars) break;
  }
  return out;
}

function macOf(ids: TokenIds, key: SigningKey, hmac: HmacSha256): string {
  const message = `${DOMAIN}${ids.subscriberId}.${ids.listId}.${ids.campaignId}`;
  return base32(hmac(key.secret, message), MAC_CHARS);
}

/** Same length strings compared without an early exit (no timing hint on how much matched). */
function equalConstantTime(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

function isKeyId(id: string): boolean {
  return KEY_ID.test(id);
}

/** The token for these ids under `key` (the first configured key signs). */
function signUnsubscribeToken(ids: TokenIds, key: SigningKey, hmac: HmacSha256): string {
  return `${ids.subscriberId}.${ids.listId}.${ids.campaignId}.${key.id}${macOf(ids, key, hmac)}`;
}

/**
 * Splits and checks a token (already lower-cased, at most 64 characters). Without `keys` the tag is
 * optional and not checked; with keys, a missing, unknown or wrong tag is refused.
 */
function verifyUnsubscribeToken(
  token: string,
  keys: readonly SigningKey[] | undefined,
  hmac: HmacSha256 | undefined,
): TokenCheck {
  const parts = token.split('.', 5);
  const [subscriberId = '', listId = '', campaignId = '', tag] = parts;
  if (parts.length < 3 || parts.length > 4 || ![subscriberId, listId, campaignId].every((u) => UID.test(u)))
    return {
      ok: false,
      problem: 'malformed',
      reason: 'not <subscriberUid>.<listUid>.<campaignUid>[.<tag>] (13 [a-z0-9] each)',
    };
  const ids = { subscriberId, listId, campaignId };
  if (!keys || keys.length === 0 || !hmac) return { ok: true, ids, keyId: undefined };
  if (tag === undefined)
    return { ok: false, problem: 'unsigned', reason: 'no signature tag (unsubscribe.signing is on)' };
  const keyId = tag.slice(0, -MAC_CHARS);
  const key = keys.find((k) => k.id === keyId);
  if (!key || tag.length <= MAC_CHARS)
    return { ok: false, problem: 'unknown-key', reason: 'signature tag names no configured key' };
  if (!equalConstantTime(tag.slice(-MAC_CHARS), macOf(ids, key, hmac)))
    return { ok: false, problem: 'bad-tag', reason: `signature tag does not match (key ${key.id})` };
  return { ok: true, ids, keyId: key.id };
}

export type { SigningKey, TokenCheck, TokenIds };
export { isKeyId, signUnsubscribeToken, verifyUnsubscribeToken };
