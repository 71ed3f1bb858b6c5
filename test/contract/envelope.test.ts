/** Envelope contract: every fixture of every version ever produced must decode (ingest relies on it). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { envelopeBodyCodec } from '#adapters/sqs/gzip-base64.ts';
import { decodeEnvelope, encodeEnvelopeJson, envelopeRecords } from '#core/envelope/envelope.ts';

const ROOT = join(import.meta.dirname, '../fixtures/envelope');

interface Fixture {
  contentEncoding: string | null;
  body: string;
  expect: { seq: number; records: number; header: string | null; rawBase64?: Record<string, string> };
}

const fixtures = readdirSync(ROOT).flatMap((version) =>
  readdirSync(join(ROOT, version)).map((file) => ({
    name: `${version}/${file}`,
    fixture: JSON.parse(readFileSync(join(ROOT, version, file), 'utf8')) as Fixture,
  })),
);

describe('envelope contract', () => {
  it('has fixtures', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(4);
  });

  it.each(fixtures)('decodes $name', ({ fixture }) => {
    const result = decodeEnvelope(fixture.body, fixture.contentEncoding ?? undefined, envelopeBodyCodec);
    if (!result.ok) throw new Error(`${result.error.field}: ${result.error.reason}`);
    expect(result.envelope.seq).toBe(fixture.expect.seq);
    expect(result.envelope.lines).toHaveLength(fixture.expect.records);
    expect(result.envelope.header ?? null).toBe(fixture.expect.header);
    const records = envelopeRecords(result.envelope);
    for (const [i, raw] of Object.entries(fixture.expect.rawBase64 ?? {})) {
      expect(records[Number(i)]?.rawBase64).toBe(raw);
      expect(records[Number(i)]?.text).toContain('\uFFFD');
    }
  });

  it.each([
    { case: 'not JSON', body: '{', enc: undefined, field: 'body' },
    { case: 'unknown version', body: '{"v":2}', enc: undefined, field: 'v' },
    { case: 'no version', body: '{"lines":[]}', enc: undefined, field: 'v' },
    {
      case: 'seq not a number',
      body: '{"v":1,"source":"pmta-acct","host":"h","stream":"s","seq":"1","lines":[]}',
      enc: undefined,
      field: 'seq',
    },
    {
      case: 'a line not a string',
      body: '{"v":1,"source":"pmta-acct","host":"h","stream":"s","seq":1,"lines":["a",2]}',
      enc: undefined,
      field: 'lines.1',
    },
    {
      case: 'b64 index out of range',
      body: '{"v":1,"source":"pmta-acct","host":"h","stream":"s","seq":1,"lines":["a"],"b64":[3]}',
      enc: undefined,
      field: 'b64.0',
    },
    { case: 'unknown encoding', body: '{}', enc: 'zstd', field: 'ContentEncoding' },
    { case: 'gzip that is not gzip', body: 'bm90IGd6aXA=', enc: 'gzip', field: 'body' },
    { case: 'br that is not brotli', body: 'bm90IGJyb3RsaQ==', enc: 'br', field: 'body' },
  ])('rejects $case naming the field, without throwing', ({ body, enc, field }) => {
    const result = decodeEnvelope(body, enc, envelopeBodyCodec);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.field).toBe(field);
  });

  it('encodes bodies SQS accepts (no U+FFFE/U+FFFF) that decode back to the same lines', () => {
    const env = {
      v: 1,
      source: 'pmta-acct',
      host: 'h',
      stream: 's',
      seq: 0,
      lines: ['a\uFFFFb\uFFFE', 'c\u0000'],
    } as const;
    const json = encodeEnvelopeJson({ ...env, lines: [...env.lines] });
    expect(json).not.toMatch(/[\uFFFE\uFFFF]/);
    const back = decodeEnvelope(json, undefined, envelopeBodyCodec);
    expect(back.ok && back.envelope.lines).toEqual(env.lines);
  });
});
