/**
 * The shipper → SQS envelope decoder under generated input: arbitrary bodies, mutated envelopes,
 * gzip or brotli of anything. It never throws; a reject names the field and the reason; an accepted
 * envelope's records can always be read (a throw there would retry a poison message forever).
 */
import { brotliCompressSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { envelopeBodyCodec } from '#adapters/sqs/gzip-base64.ts';
import {
  type DecodeEnvelopeResult,
  decodeEnvelope,
  encodeEnvelopeJson,
  envelopeRecords,
} from '#core/envelope/envelope.ts';
import { runs, timeoutFor } from './fuzz-runs.ts';

const encoding = fc.constantFrom(undefined, '', 'gzip', 'br', 'GZIP', 'identity');

function checkResult(result: DecodeEnvelopeResult): void {
  if (result.ok) {
    const records = envelopeRecords(result.envelope);
    expect(records).toHaveLength(result.envelope.lines.length);
    return;
  }
  expect(result.error.field).toMatch(/^(body|v|ContentEncoding|[a-z0-9]+(\.[a-z0-9]+)*)$/i);
  expect(result.error.reason.length).toBeGreaterThan(3);
}

const line = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('b,1,a@b.c,bad-mailbox', '', '\u0000', '\uFFFE', 'QUJD', 'QUI=', '!!!!', 'YQ'),
);
const envelopeish = fc.record(
  {
    v: fc.oneof(fc.constant(1), fc.constant(2), fc.constant('1'), fc.constant(null)),
    source: fc.oneof(fc.constant('pmta-acct'), fc.string({ maxLength: 5 })),
    host: fc.oneof(fc.string({ maxLength: 10 }), fc.integer()),
    stream: fc.oneof(fc.constant('s1'), fc.constant(''), fc.integer()),
    seq: fc.oneof(fc.nat(), fc.integer({ min: -5, max: -1 }), fc.double(), fc.constant('3')),
    header: fc.oneof(fc.string({ maxLength: 20 }), fc.constant(null)),
    lines: fc.oneof(fc.array(line, { maxLength: 6 }), fc.array(fc.jsonValue(), { maxLength: 3 })),
    b64: fc.array(fc.oneof(fc.nat({ max: 8 }), fc.integer({ min: -2, max: -1 }), fc.constant('0')), {
      maxLength: 3,
    }),
    extra: fc.jsonValue(),
  },
  { requiredKeys: ['v'] },
);

describe('envelope decoder: fuzz', () => {
  const n = runs();
  it(
    'any body text, any content encoding: a value, never a throw',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ maxLength: 300 }), fc.base64String({ maxLength: 300 })),
          encoding,
          (body, enc) => {
            checkResult(decodeEnvelope(body, enc, envelopeBodyCodec));
          },
        ),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it(
    'mutated envelopes: accepted ones read back, rejects name the field',
    () => {
      fc.assert(
        fc.property(envelopeish, fc.boolean(), (value, gzip) => {
          const json = JSON.stringify(value);
          const body = gzip ? gzipSync(json).toString('base64') : json;
          checkResult(decodeEnvelope(body, gzip ? 'gzip' : undefined, envelopeBodyCodec));
        }),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it(
    'gzip of arbitrary bytes, truncated or not',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat({ max: 50 }), (bytes, cut) => {
          const zipped = gzipSync(bytes);
          const body = zipped.subarray(0, Math.max(0, zipped.length - cut)).toString('base64');
          checkResult(decodeEnvelope(body, 'gzip', envelopeBodyCodec));
        }),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it(
    'brotli of arbitrary bytes, truncated or not',
    () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 400 }), fc.nat({ max: 50 }), (bytes, cut) => {
          const packed = brotliCompressSync(bytes);
          const body = packed.subarray(0, Math.max(0, packed.length - cut)).toString('base64');
          checkResult(decodeEnvelope(body, 'br', envelopeBodyCodec));
        }),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it(
    'what the encoder writes always decodes to the same lines (any text, binary records as b64)',
    () => {
      fc.assert(
        fc.property(
          fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.uint8Array({ maxLength: 30 })), {
            maxLength: 8,
          }),
          (items) => {
            const b64: number[] = [];
            const lines = items.map((item, i) => {
              if (typeof item === 'string') return item;
              b64.push(i);
              return Buffer.from(item).toString('base64');
            });
            const envelope = {
              v: 1 as const,
              source: 'pmta-acct' as const,
              host: 'h',
              stream: 's',
              seq: 0,
              lines,
              b64,
            };
            const result = decodeEnvelope(encodeEnvelopeJson(envelope), undefined, envelopeBodyCodec);
            expect(result.ok).toBe(true);
            if (result.ok) expect(result.envelope.lines).toEqual(lines);
          },
        ),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it('a b64 index on a line that is not base64 is a reject naming that line, not a throw later', () => {
    const body = JSON.stringify({
      v: 1,
      source: 'pmta-acct',
      host: 'h',
      stream: 's',
      seq: 0,
      lines: ['ok', '!!!'],
      b64: [1],
    });
    expect(decodeEnvelope(body, undefined, envelopeBodyCodec)).toEqual({
      ok: false,
      error: { field: 'lines.1', reason: 'listed in b64 but not base64' },
    });
  });
});
