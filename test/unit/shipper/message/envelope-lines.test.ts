import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnvelopeLines } from '../../../../shipper/message/envelope-lines.ts';

/** The items as a consumer reads them: text, or the exact bytes for b64 items. */
function decode(lines: EnvelopeLines): Array<string | Buffer> {
  const items = JSON.parse(`[${lines.bytes.toString('utf8')}]`) as string[];
  const binary = new Set(lines.b64);
  return items.map((item, i) => (binary.has(i) ? Buffer.from(item, 'base64') : item));
}

/** Adds every record of `records` from one shared buffer, as the spool reader does. */
function fromOneRead(records: Buffer[], hint = { utf8: false, noncharacters: true }): EnvelopeLines {
  const read = Buffer.concat(records.flatMap((r) => [r, Buffer.from('\r\n')]));
  const lines = new EnvelopeLines(16);
  let at = 0;
  for (const r of records) {
    lines.addBytes(read, at, at + r.length, hint.utf8, hint.noncharacters);
    at += r.length + 2;
  }
  return lines;
}

describe('EnvelopeLines', () => {
  const cases: Array<[string, Buffer, string | Buffer]> = [
    ['plain', Buffer.from('b,2024-01-01,a@b.c'), 'b,2024-01-01,a@b.c'],
    ['quoted fields', Buffer.from('b,"x, ""y""",z'), 'b,"x, ""y""",z'],
    ['backslash', Buffer.from('b,C:\\path\\n,z'), 'b,C:\\path\\n,z'],
    ['quoted CRLF and tab', Buffer.from('b,"a\r\nb\tc"'), 'b,"a\r\nb\tc"'],
    ['NUL and DEL', Buffer.from('b,\u0000\u007f'), 'b,\u0000\u007f'],
    ['multi-byte UTF-8', Buffer.from('b,"Empfänger ✉ 🙂"'), 'b,"Empfänger ✉ 🙂"'],
    ['U+FFFE and U+FFFF', Buffer.from('f,\uFFFF\uFFFE,"q"'), 'f,\uFFFF\uFFFE,"q"'],
    [
      'not UTF-8',
      Buffer.from([0x62, 0x2c, 0xff, 0xfe, 0x80, 0x22]),
      Buffer.from([0x62, 0x2c, 0xff, 0xfe, 0x80, 0x22]),
    ],
    ['empty', Buffer.alloc(0), ''],
  ];
  it.each(cases)('%s arrives exactly', (_name, record, expected) => {
    const lines = fromOneRead([Buffer.from('"first"'), record, Buffer.from('last')]);
    expect(decode(lines)).toEqual(['"first"', expected, 'last']);
  });

  it('never writes U+FFFE/U+FFFF raw (SQS refuses them) and stays valid UTF-8', () => {
    const lines = fromOneRead([Buffer.from('\uFFFE,"\uFFFF"')]);
    expect(lines.bytes.includes(Buffer.from('\uFFFE'))).toBe(false);
    expect(lines.bytes.includes(Buffer.from('\uFFFF'))).toBe(false);
    expect(lines.bytes.toString('latin1')).toContain('\\ufffe');
  });

  it('a run of records without quotes after a quoted one is still escaped right', () => {
    const records = [
      Buffer.from('a,"q"'),
      ...Array.from({ length: 50 }, (_, i) => Buffer.from(`r${i},x`)),
      Buffer.from('z,"w"'),
    ];
    expect(decode(fromOneRead(records))).toEqual(records.map((r) => r.toString()));
  });

  it('slices keep items and b64 indices', () => {
    const lines = fromOneRead([
      Buffer.from('a'),
      Buffer.from([0xff]),
      Buffer.from('"c"'),
      Buffer.from([0xfe, 0x41]),
    ]);
    expect(decode(lines.slice(1, 3))).toEqual([Buffer.from([0xff]), '"c"']);
    expect(decode(lines.slice(3, 4))).toEqual([Buffer.from([0xfe, 0x41])]);
    expect(decode(lines.slice(0, 1))).toEqual(['a']);
  });

  it('frame() puts head and tail around the items in place, or copies when the head does not fit', () => {
    for (const room of [0, 5, 64]) {
      const lines = new EnvelopeLines(8, room);
      lines.addBytes(Buffer.from('a,"b"'), 0, 5, true, false);
      lines.addText('c');
      const framed = lines.frame('{"seq":7,"lines":[', ']}');
      expect(JSON.parse(framed.toString('utf8'))).toEqual({ seq: 7, lines: ['a,"b"', 'c'] });
      expect(decode(lines.slice(1, 2))).toEqual(['c']);
    }
  });

  it('fromText round-trips text and base64 records', () => {
    const lines = EnvelopeLines.fromText(['a,"b"', '/w==', 'c\\d\uFFFF'], [1]);
    expect(decode(lines)).toEqual(['a,"b"', Buffer.from([0xff]), 'c\\d\uFFFF']);
  });

  it('any bytes: the same result as JSON.stringify of the decoded text, or base64 when not UTF-8', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 20 }),
        fc.boolean(),
        (arrays, utf8Hint) => {
          // A record never holds its own terminator LF; CR and everything else may appear.
          const records = arrays.map((a) => Buffer.from(a.filter((b) => b !== 0x0a)));
          const allUtf8 = records.every((r) => Buffer.from(r.toString('utf8'), 'utf8').equals(r));
          const lines = fromOneRead(records, { utf8: utf8Hint && allUtf8, noncharacters: true });
          const got = decode(lines);
          records.forEach((r, i) => {
            const valid = Buffer.from(r.toString('utf8'), 'utf8').equals(r);
            expect(got[i]).toEqual(valid ? r.toString('utf8') : r);
          });
          expect(Buffer.from(lines.bytes.toString('utf8'), 'utf8').equals(lines.bytes)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('EnvelopeLines in the byte arena', () => {
  it('copies from the arena read buffer exactly as from any buffer, and reuses its slots', async () => {
    const { readBuffer } = await import('../../../../shipper/message/byte-arena.ts');
    const records = [Buffer.from('b,"x ""y""",z'), Buffer.from('plain,record'), Buffer.from('"q"')];
    const read = Buffer.concat(records.flatMap((r) => [r, Buffer.from('\n')]));
    read.copy(readBuffer);
    const chunk = readBuffer.subarray(0, read.length);
    for (let round = 0; round < 10; round++) {
      const lines = new EnvelopeLines(1000);
      let at = 0;
      for (const r of records) {
        lines.addBytes(chunk, at, at + r.length, true, false);
        at += r.length + 1;
      }
      expect(decode(lines)).toEqual(records.map((r) => r.toString()));
      lines.release();
      lines.release(); // a second release must not hand the slot out twice
    }
  });
});

describe('hasEscapesInArena', () => {
  it('agrees with a byte-by-byte check for any bytes, offsets and lengths', async () => {
    const { hasEscapesInArena, readBuffer } = await import('../../../../shipper/message/byte-arena.ts');
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 64 }),
        fc.integer({ min: 0, max: 7 }),
        (bytes, offset) => {
          // Mostly printable bytes, so the word-at-a-time path sees clean words too.
          const data = Buffer.from(bytes.map((b) => (b % 3 === 0 ? b : 0x41 + (b % 26))));
          data.copy(readBuffer, offset);
          const expected = [...data].some((c) => c < 0x20 || c === 0x5c);
          expect(hasEscapesInArena(readBuffer, offset, offset + data.length)).toBe(expected);
        },
      ),
      { numRuns: 3000 },
    );
    expect(hasEscapesInArena(Buffer.from('a\\b'), 0, 3)).toBeUndefined();
  });
});
