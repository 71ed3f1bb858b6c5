/** The compressed + base64 codecs of the shipper envelope, gzip and brotli (kept out of the pure core). */
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import type { EnvelopeCodec } from '#core/ports.ts';

/** Accepts at most this much decompressed text, so a hostile body cannot exhaust memory. */
const MAX_INFLATED_BYTES = 64 * 1024 * 1024;

function gunzipBase64(base64: string): string {
  return gunzipSync(Buffer.from(base64, 'base64'), { maxOutputLength: MAX_INFLATED_BYTES }).toString('utf8');
}

function unbrotliBase64(base64: string): string {
  return brotliDecompressSync(Buffer.from(base64, 'base64'), {
    maxOutputLength: MAX_INFLATED_BYTES,
  }).toString('utf8');
}

function gzipBase64(text: string, level = 6): string {
  return gzipSync(text, { level }).toString('base64');
}

const envelopeBodyCodec: EnvelopeCodec = { gunzipBase64, unbrotliBase64 };

export { envelopeBodyCodec, gunzipBase64, gzipBase64, unbrotliBase64 };
