/**
 * Recipient addresses as we store and compare them: trimmed, angle brackets removed, lower-cased.
 */

const MAX_ADDRESS_LENGTH = 254;
// Deliberately loose: PowerMTA already accepted these addresses; we only refuse what cannot be one
// (control characters such as NUL included: they would travel on to providers, logs and reports).
const ADDRESS =
  /^[^\s\x00-\x1f\x7f@<>",;()[\]\\]+@[^\s\x00-\x1f\x7f@<>",;()[\]\\]+\.[^\s\x00-\x1f\x7f@<>",;()[\]\\.]+$/;

type AddressResult = { ok: true; address: string } | { ok: false; reason: string };

function normalizeAddress(value: string): AddressResult {
  let v = value.trim();
  if (v.startsWith('<') && v.endsWith('>')) v = v.slice(1, -1).trim();
  if (v.toLowerCase().startsWith('mailto:')) v = v.slice(7);
  if (v === '') return { ok: false, reason: 'empty address' };
  if (v.length > MAX_ADDRESS_LENGTH)
    return { ok: false, reason: `address longer than ${MAX_ADDRESS_LENGTH} characters` };
  if (!ADDRESS.test(v)) return { ok: false, reason: `not an email address: ${JSON.stringify(shorten(v))}` };
  return { ok: true, address: v.toLowerCase() };
}

/**
 * PowerMTA's privacy-policy and some feedback loops replace the local part: `redacted@`, `xxx@`,
 * `***@`, or a long hex hash. Such an address cannot be unsubscribed by email.
 */
function isAnonymised(address: string): boolean {
  const local = address.slice(0, address.indexOf('@'));
  return /^(redacted|anonymi[sz]ed|hidden|unknown|x+|\*+|-+)$/i.test(local) || /^[0-9a-f]{16,}$/i.test(local);
}

function shorten(v: string, max = 80): string {
  return v.length > max ? `${v.slice(0, max)}…` : v;
}

export { isAnonymised, MAX_ADDRESS_LENGTH, normalizeAddress, shorten };
