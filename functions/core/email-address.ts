/**
 * Recipient addresses as we store and compare them: trimmed, angle brackets removed, lower-cased.
 * Read in one linear pass: a quoted local part (`"john smith"@example.com`, RFC 5321 §4.1.2),
 * UTF-8 local parts and internationalised domains (RFC 6531) and address literals
 * (`user@[192.0.2.1]`) are accepted, as PowerMTA delivers to them; what cannot be an address is not.
 */

const MAX_ADDRESS_LENGTH = 254;
const MAX_LOCAL_LENGTH = 64;
// Deliberately loose: PowerMTA already accepted these addresses; we only refuse what cannot be one
// (control characters such as NUL included: they would travel on to providers, logs and reports).
const DOT_ATOM_LOCAL = /^[^\s\x00-\x1f\x7f@<>",;()[\]\\]+$/;
const DOMAIN = /^[^\s\x00-\x1f\x7f@<>",;()[\]\\]+\.[^\s\x00-\x1f\x7f@<>",;()[\]\\.]+$/;
/** The common case in one test: an unquoted local part and a domain name. */
const PLAIN_ADDRESS =
  /^[^\s\x00-\x1f\x7f@<>",;()[\]\\]+@[^\s\x00-\x1f\x7f@<>",;()[\]\\]+\.[^\s\x00-\x1f\x7f@<>",;()[\]\\.]+$/;
const ADDRESS_LITERAL = /^\[(?:\d{1,3}(?:\.\d{1,3}){3}|IPv6:[0-9A-Fa-f:.]{2,45})\]$/;

type AddressResult = { ok: true; address: string } | { ok: false; reason: string };

/** End of a quoted local part that starts at 0 (index after the closing quote), or -1. */
function quotedLocalEnd(v: string): number {
  for (let i = 1; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 32 || c === 127) return -1;
    if (c === 92) {
      const next = v.charCodeAt(i + 1);
      if (Number.isNaN(next) || next < 32 || next === 127) return -1;
      i++;
    } else if (c === 34) return i + 1;
  }
  return -1;
}

function splitAddress(v: string): { local: string; domain: string } | undefined {
  if (v.startsWith('"')) {
    const end = quotedLocalEnd(v);
    if (end < 0 || v[end] !== '@') return undefined;
    return { local: v.slice(0, end), domain: v.slice(end + 1) };
  }
  const at = v.lastIndexOf('@');
  if (at <= 0) return undefined;
  const local = v.slice(0, at);
  return DOT_ATOM_LOCAL.test(local) ? { local, domain: v.slice(at + 1) } : undefined;
}

const NON_ASCII = /[^\x00-\x7f]/;

function isAddress(v: string): boolean {
  if (v.charCodeAt(0) !== 34 && PLAIN_ADDRESS.test(v)) {
    return v.lastIndexOf('@') <= MAX_LOCAL_LENGTH;
  }
  const parts = splitAddress(v);
  return (
    parts !== undefined &&
    parts.local.length <= MAX_LOCAL_LENGTH + 2 &&
    (DOMAIN.test(parts.domain) || ADDRESS_LITERAL.test(parts.domain))
  );
}

function normalizeAddress(value: string): AddressResult {
  let v = value.trim();
  if (v.startsWith('<') && v.endsWith('>')) v = v.slice(1, -1).trim();
  if (v.toLowerCase().startsWith('mailto:')) v = v.slice(7);
  if (v === '') return { ok: false, reason: 'empty address' };
  if (v.length > MAX_ADDRESS_LENGTH)
    return { ok: false, reason: `address longer than ${MAX_ADDRESS_LENGTH} characters` };
  if (!isAddress(v)) return { ok: false, reason: `not an email address: ${JSON.stringify(shorten(v))}` };
  // NFC only where it can change something: most addresses are ASCII.
  return { ok: true, address: (NON_ASCII.test(v) ? v.normalize('NFC') : v).toLowerCase() };
}

/**
 * PowerMTA's privacy-policy and some feedback loops replace the local part: `redacted@`, `xxx@`,
 * `***@`, or a long hex hash. Such an address cannot be unsubscribed by email.
 */
function isAnonymised(address: string): boolean {
  const local = address.slice(0, address.lastIndexOf('@'));
  return /^(redacted|anonymi[sz]ed|hidden|unknown|x+|\*+|-+)$/i.test(local) || /^[0-9a-f]{16,}$/i.test(local);
}

function shorten(v: string, max = 80): string {
  return v.length > max ? `${v.slice(0, max)}…` : v;
}

export { isAnonymised, MAX_ADDRESS_LENGTH, normalizeAddress, shorten };
