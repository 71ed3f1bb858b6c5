/**
 * The constants of envelope v1 that a producer needs, without the schema: the shipper bundles
 * this file alone (the zod schema in envelope.ts would add ~450 KB to it).
 */

const ENVELOPE_VERSION = 1;
const ENVELOPE_SOURCE = 'pmta-acct';
/** Name of the SQS message attribute that says how the body is encoded. */
const CONTENT_ENCODING_ATTRIBUTE = 'ContentEncoding';
/** `br` (brotli) is an addition to v1: the shipper's default since it packs ~2x faster than gzip. */
const ContentEncoding = { gzip: 'gzip', br: 'br' } as const;
type ContentEncoding = (typeof ContentEncoding)[keyof typeof ContentEncoding];

/** Escapes U+FFFE and U+FFFF in JSON text, which SQS refuses (callers that know the text is ASCII may skip this). */
function escapeSqsNoncharacters(json: string): string {
  return json.replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

export {
  CONTENT_ENCODING_ATTRIBUTE,
  ContentEncoding,
  ENVELOPE_SOURCE,
  ENVELOPE_VERSION,
  escapeSqsNoncharacters,
};
