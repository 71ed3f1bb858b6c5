/**
 * Wire format shipper → SQS (docs/interfaces.md §5).
 * Pure: the gzip codec is injected so this file stays free of I/O modules.
 *
 * Body: JSON text, or base64 of gzipped JSON when the message attribute `ContentEncoding` is `gzip`.
 * Extension of v1 (optional, additive): `b64` lists indices of `lines` that hold the base64 of a
 * record's raw bytes because those bytes are not valid UTF-8; the shipper never alters a record.
 */
import { z } from 'zod';
import type { EnvelopeCodec } from '../ports.ts';
import {
  CONTENT_ENCODING_ATTRIBUTE,
  ContentEncoding,
  ENVELOPE_SOURCE,
  ENVELOPE_VERSION,
  escapeSqsNoncharacters,
} from './envelope-wire.ts';

/** Standard padded base64, as the shipper writes it (atob would throw on anything else). */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const envelopeV1Schema = z
  .object({
    v: z.literal(1),
    source: z.literal(ENVELOPE_SOURCE),
    host: z.string(),
    stream: z.string().min(1),
    seq: z.number().int().nonnegative(),
    header: z.string().optional(),
    lines: z.array(z.string()),
    b64: z.array(z.number().int().nonnegative()).optional(),
  })
  .superRefine((env, ctx) => {
    for (const [i, index] of (env.b64 ?? []).entries()) {
      if (index >= env.lines.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['b64', i],
          message: `index ${index} is past the end of lines`,
        });
      } else if (!BASE64.test(env.lines[index]!)) {
        // Caught here, not when the records are read: a throw there would retry the message forever.
        ctx.addIssue({ code: 'custom', path: ['lines', index], message: 'listed in b64 but not base64' });
      }
    }
  });

type EnvelopeV1 = z.infer<typeof envelopeV1Schema>;
/** Every version ever produced; a union as soon as there is a v2. */
type Envelope = EnvelopeV1;

interface EnvelopeError {
  /** Dotted path of the offending field (`lines.3`, `seq`), or `body` / `ContentEncoding`. */
  field: string;
  reason: string;
}

type DecodeEnvelopeResult = { ok: true; envelope: Envelope } | { ok: false; error: EnvelopeError };

/** One record of an envelope as a consumer wants it. */
interface EnvelopeRecord {
  /** Position in arrival order within the message. */
  index: number;
  /** The record's text; for a record that is not valid UTF-8, a lossy decoding (U+FFFD). */
  text: string;
  /** Set when the record's bytes are not valid UTF-8: the exact bytes, base64. */
  rawBase64?: string;
}

/** JSON of an envelope that is always a valid SQS body (SQS refuses U+FFFE and U+FFFF). */
function encodeEnvelopeJson(envelope: Envelope): string {
  return escapeSqsNoncharacters(JSON.stringify(envelope));
}

function decodeEnvelope(
  body: string,
  contentEncoding: string | undefined,
  codec: EnvelopeCodec,
): DecodeEnvelopeResult {
  let json = body;
  if (contentEncoding !== undefined && contentEncoding !== '') {
    if (contentEncoding !== ContentEncoding.gzip && contentEncoding !== ContentEncoding.br) {
      return fail(CONTENT_ENCODING_ATTRIBUTE, `unsupported content encoding "${contentEncoding}"`);
    }
    try {
      json = contentEncoding === ContentEncoding.gzip ? codec.gunzipBase64(body) : codec.unbrotliBase64(body);
    } catch (cause) {
      return fail(
        'body',
        `not base64 ${contentEncoding}: ${cause instanceof Error ? cause.message : String(cause)}`,
      );
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (cause) {
    return fail('body', `not JSON: ${cause instanceof Error ? cause.message : String(cause)}`);
  }
  if (typeof value !== 'object' || value === null || !('v' in value)) {
    return fail('v', 'missing envelope version');
  }
  if (value.v !== ENVELOPE_VERSION)
    return fail('v', `unsupported envelope version ${JSON.stringify(value.v)}`);
  const parsed = envelopeV1Schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return fail(issue?.path.join('.') || 'body', issue?.message ?? 'invalid envelope');
  }
  return { ok: true, envelope: parsed.data };
}

/** Records of a decoded envelope, with non-UTF-8 records turned back into text plus their exact bytes. */
function envelopeRecords(envelope: Envelope): EnvelopeRecord[] {
  const binary = new Set(envelope.b64 ?? []);
  const lossy = new TextDecoder('utf-8', { fatal: false });
  return envelope.lines.map((line, index) => {
    if (!binary.has(index)) return { index, text: line };
    const bytes = Uint8Array.from(atob(line), (c) => c.charCodeAt(0));
    return { index, text: lossy.decode(bytes), rawBase64: line };
  });
}

function fail(field: string, reason: string): DecodeEnvelopeResult {
  return { ok: false, error: { field, reason } };
}

export type { DecodeEnvelopeResult, Envelope, EnvelopeError, EnvelopeRecord, EnvelopeV1 };
export {
  CONTENT_ENCODING_ATTRIBUTE,
  ContentEncoding,
  decodeEnvelope,
  ENVELOPE_SOURCE,
  ENVELOPE_VERSION,
  encodeEnvelopeJson,
  envelopeRecords,
  envelopeV1Schema,
  escapeSqsNoncharacters,
};
