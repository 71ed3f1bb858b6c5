import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isHeaderRecord, RecordSplitter } from '../../../../shipper/message/record-splitter.ts';

function split(pieces: Buffer[], max?: number): string[] {
  const s = new RecordSplitter(max);
  const out: string[] = [];
  const sink = (b: Buffer, st: number, e: number): void => {
    out.push(b.toString('latin1', st, e));
  };
  // The same buffer is reused for every piece, as the shipper's readers do.
  const reuse = Buffer.alloc(Math.max(1, ...pieces.map((p) => p.length)));
  for (const p of pieces) {
    p.copy(reuse);
    s.push(reuse.subarray(0, p.length), sink);
    reuse.fill(0x23);
  }
  s.end(sink);
  return out;
}

function chunks(data: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of [...points, data.length]) {
    if (c > prev) out.push(data.subarray(prev, c));
    prev = c;
  }
  return out;
}

const field = fc.oneof(
  fc.stringMatching(/^[^",\r\n]{0,12}$/),
  fc.string({ maxLength: 12 }).map((s) => `"${s.replace(/"/g, '""')}"`),
);
const record = fc.array(field, { minLength: 1, maxLength: 6 }).map((fs) => fs.join(','));

describe('RecordSplitter', () => {
  it.each([
    { case: 'CRLF and LF terminators', input: 'a,b\r\nc,d\ne', expected: ['a,b', 'c,d', 'e'] },
    {
      case: 'quoted CRLF stays inside the record',
      input: 'b,"x\r\ny",z\r\nn\r\n',
      expected: ['b,"x\r\ny",z', 'n'],
    },
    { case: 'doubled quotes', input: 'b,"say ""hi""\n",1\n', expected: ['b,"say ""hi""\n",1'] },
    { case: 'stray quote mid-field is literal', input: 'b,ab"c,d\ne\n', expected: ['b,ab"c,d', 'e'] },
    { case: 'quote after a closed quote', input: 'b,"x"y\nz\n', expected: ['b,"x"y', 'z'] },
    { case: 'blank line is an empty record', input: 'a\n\nb\n', expected: ['a', '', 'b'] },
  ])('splits: $case', ({ input, expected }) => {
    expect(split([Buffer.from(input)])).toEqual(expected);
  });

  it('cuts an unterminated quote after maxRecordBytes at its first line end and carries on', () => {
    const tail = Array.from({ length: 50 }, (_, i) => `b,${i},ok`).join('\n');
    const out = split([Buffer.from(`b,"never closed,x\n${tail}\n`)], 256);
    expect(out[0]).toBe('b,"never closed,x');
    expect(out.slice(-3)).toEqual(['b,47,ok', 'b,48,ok', 'b,49,ok']);
    expect(out.join('\n')).toBe(`b,"never closed,x\n${tail}`);
  });

  it('cuts a record with no line end at maxRecordBytes without losing a byte', () => {
    const big = 'x'.repeat(1000);
    const out = split(chunks(Buffer.from(big), [100, 300, 777]), 256);
    expect(out.join('')).toBe(big);
    expect(Math.max(...out.map((o) => o.length))).toBeLessThanOrEqual(256 + 256);
  });

  it('property: any chunking of well-formed CSV gives back exactly the records', () => {
    fc.assert(
      fc.property(
        fc.array(record, { minLength: 1, maxLength: 30 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.boolean(),
        (recs, cuts, crlf) => {
          const data = Buffer.from(recs.map((r) => `${r}${crlf ? '\r\n' : '\n'}`).join(''), 'latin1');
          expect(split(chunks(data, cuts))).toEqual(recs.map((r) => (crlf ? r : r)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: arbitrary bytes never throw and every byte comes back, in order', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const data = Buffer.from(bytes);
        const out = split(chunks(data, cuts), 128);
        const strip = (s: string): string => s.replace(/\r?\n/g, '').replace(/\r/g, '');
        expect(strip(out.join(''))).toBe(strip(data.toString('latin1')));
      }),
      { numRuns: 300 },
    );
  });

  it('recognises header lines', () => {
    const b = Buffer.from('type,timeLogged\nb,x');
    expect(isHeaderRecord(b, 0, 15)).toBe(true);
    expect(isHeaderRecord(b, 16, 19)).toBe(false);
  });
});
