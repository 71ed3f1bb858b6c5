/** The one CSV record splitter (shipper and reader) and the reader's field cutter, against csv-parse. */

import { parse as parseSync } from 'csv-parse/sync';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldsByCsvParse, RecordFieldCutter } from '#core/accounting/record-fields.ts';
import {
  isHeaderRecord,
  RecordCut,
  type RecordInfo,
  RecordSplitter,
} from '#core/accounting/record-splitter.ts';

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

/** The splitter then the field cutter over a whole document, in the given pieces. */
function readFields(pieces: Buffer[]): Array<{ line: number; fields: string[] | string }> {
  const splitter = new RecordSplitter({ maxRecordBytes: 1 << 20, maxLinesInQuotes: 1000 });
  const cutter = new RecordFieldCutter();
  const out: Array<{ line: number; fields: string[] | string }> = [];
  const sink = (b: Buffer, st: number, e: number, info: RecordInfo): void => {
    if (e > st) out.push({ line: info.line, fields: cutter.cut(b, st, e) });
  };
  for (const p of pieces) {
    cutter.reset();
    splitter.push(Buffer.from(p), sink);
  }
  cutter.reset();
  splitter.end(sink);
  return out;
}

/** csv-parse over the whole document, as the reader was specified against (relax_quotes etc.). */
function csvParseWhole(data: Buffer): Array<{ line: number; fields: string[] }> {
  const text = Buffer.from(data.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
  const records = parseSync(text, {
    relax_column_count: true,
    relax_quotes: true,
    record_delimiter: '\n',
    skip_empty_lines: true,
    info: true,
  }) as unknown as Array<{ record: string[]; info: { lines: number; raw?: string } }>;
  return records.map((r) => ({ line: r.info.lines, fields: r.record }));
}

const quotedField = fc
  .array(fc.constantFrom('a', 'é', ',', '"', '\n', '\r\n', ' ', 'x@y.z'), { maxLength: 8 })
  .map((cs) => `"${cs.join('').replaceAll('"', '""')}"`);
const anyField = fc.oneof(fc.stringMatching(/^[^",\r\n]{0,10}$/), quotedField);
const csvRecord = fc.array(anyField, { minLength: 1, maxLength: 6 }).map((fs) => fs.join(','));

describe('RecordSplitter + RecordFieldCutter against csv-parse', () => {
  it('property: well-formed CSV in any chunking gives csv-parse records and line numbers', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(csvRecord, fc.constant('')), { minLength: 1, maxLength: 25 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (recs, cuts, crlf) => {
          const data = Buffer.from(recs.map((r) => `${r}${crlf ? '\r\n' : '\n'}`).join(''));
          const ours = readFields(chunks(data, cuts));
          const theirs = csvParseWhole(data);
          // Each record starts one line after the previous record's last line.
          expect(ours.map((r) => r.fields)).toEqual(theirs.map((r) => r.fields));
          const starts = recs.reduce<number[]>((acc, _r, i) => {
            const line = i === 0 ? 1 : acc[acc.length - 1]! + recs[i - 1]!.split('\n').length;
            acc.push(line);
            return acc;
          }, []);
          expect(ours.map((r) => r.line)).toEqual(starts.filter((_, i) => recs[i] !== ''));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: every record the splitter passes on is cut into the fields csv-parse reads', () => {
    const messy = fc
      .array(fc.constantFrom('a', 'b', ',', '"', '""', '\n', '\r', ' '), { maxLength: 40 })
      .map((cs) => cs.join(''));
    fc.assert(
      fc.property(messy, (text) => {
        const splitter = new RecordSplitter({ maxRecordBytes: 1 << 16, maxLinesInQuotes: 100 });
        const cutter = new RecordFieldCutter();
        const check = (b: Buffer, st: number, e: number): void => {
          if (e === st) return;
          const bytes = Buffer.from(b.subarray(st, e));
          expect(cutter.cut(bytes, 0, bytes.length)).toEqual(fieldsByCsvParse(bytes));
        };
        splitter.push(Buffer.from(text), check);
        splitter.end(check);
      }),
      { numRuns: 1000 },
    );
  });

  it('numbers lines across quoted newlines, blank lines and cuts (16-byte reads)', () => {
    const splitter = new RecordSplitter({ maxRecordBytes: 64, maxLinesInQuotes: 3 });
    const got: Array<[number, number, string]> = [];
    const data = `a\n\nb,"x\ny"\nc\nd,"open\n1\n2\n3\ne\n${'z'.repeat(100)}\nf\n`;
    const sink = (b: Buffer, st: number, e: number, info: RecordInfo): void => {
      got.push([info.line, info.cut, b.toString('utf8', st, e)]);
    };
    const cuts = Array.from({ length: 12 }, (_, i) => i * 16);
    for (const piece of chunks(Buffer.from(data), cuts)) splitter.push(piece, sink);
    splitter.end(sink);
    expect(got).toEqual([
      [1, RecordCut.none, 'a'],
      [2, RecordCut.none, ''],
      [3, RecordCut.none, 'b,"x\ny"'],
      [5, RecordCut.none, 'c'],
      [6, RecordCut.unbalancedQuote, 'd,"open'],
      [7, RecordCut.none, '1'],
      [8, RecordCut.none, '2'],
      [9, RecordCut.none, '3'],
      [10, RecordCut.none, 'e'],
      [11, RecordCut.oversized, 'z'.repeat(64)],
      [11, RecordCut.continued, 'z'.repeat(36)],
      [12, RecordCut.none, 'f'],
    ]);
  });
});
