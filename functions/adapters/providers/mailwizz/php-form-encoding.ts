/**
 * PHP's form encoding (urlencode / http_build_query, RFC 1738 flavour) and key order (ksort
 * SORT_STRING), which MailWizz 1.x signatures are computed over (docs/provider-apis.md §1.2).
 */

type FormScalar = string | number | boolean | null | undefined;
type FormValue = FormScalar | { readonly [key: string]: FormValue };
type FormParams = { readonly [key: string]: FormValue };

/** PHP urlencode: space → "+", everything outside [A-Za-z0-9_.-] → %XX in uppercase hex. */
function phpUrlEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/[!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

function scalarText(value: FormScalar): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'boolean') return value ? '1' : '0';
  return String(value);
}

/** strcmp order (uppercase before lowercase); JS code-unit order equals byte order for ASCII keys. */
function byteOrder(a: string, b: string): number {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return Buffer.compare(x, y);
}

function appendPairs(out: string[], prefix: string, value: FormValue): void {
  if (value !== null && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) appendPairs(out, `${prefix}[${key}]`, inner);
    return;
  }
  const text = scalarText(value);
  if (text !== undefined) out.push(`${phpUrlEncode(prefix)}=${phpUrlEncode(text)}`);
}

/** http_build_query after ksort: top-level keys sorted in byte order, nested keys kept as given. */
function buildSortedQuery(params: FormParams): string {
  const out: string[] = [];
  for (const key of Object.keys(params).sort(byteOrder)) appendPairs(out, key, params[key]);
  return out.join('&');
}

export type { FormParams, FormValue };
export { buildSortedQuery, phpUrlEncode };
