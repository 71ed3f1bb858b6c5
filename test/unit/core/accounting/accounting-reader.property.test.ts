/**
 * No input makes the reader throw; every record becomes exactly one outcome with a line number,
 * and every reject carries a reason. Case count: FC_RUNS (default 2000; the full run uses more).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ParseOutcome } from '#core/mail-event.ts';
import { readAccounting } from '#test/support/read-accounting.ts';

const RUNS = Number(process.env.FC_RUNS ?? 2000);

const field = fc.oneof(
  fc.constantFrom(
    '',
    'b',
    'rb',
    'f',
    'd',
    'type',
    'a@b.com',
    'A@B.COM',
    '"',
    '""',
    ',',
    '\r\n',
    '\n',
    'bad-mailbox',
    '5.1.1',
    '1178807915',
    '2016-05-29 01:10:51+0200',
    'header_X',
    '\u0000',
    '\uFEFF',
  ),
  fc.string({ maxLength: 20 }),
);
const record = fc.array(field, { minLength: 0, maxLength: 8 }).map((fs) => fs.join(','));
const document = fc
  .array(record, { maxLength: 30 })
  .map((rs) => rs.join(fc.sample(fc.constantFrom('\n', '\r\n'), 1)[0]));

function checkOutcomes(out: ParseOutcome[]): void {
  let last = 0;
  for (const o of out) {
    const line = o.ok ? o.event.line : o.line;
    expect(Number.isInteger(line) && line >= 1).toBe(true);
    expect(line).toBeGreaterThanOrEqual(last);
    last = line;
    if (!o.ok) expect(o.reason.length).toBeGreaterThan(3);
    if (o.ok && o.event.recipient !== undefined)
      expect(o.event.recipient).toBe(o.event.recipient.toLowerCase());
  }
}

describe('accounting reader: property', () => {
  it('never throws on structured-ish CSV, in any chunking', () => {
    fc.assert(
      fc.property(document, fc.integer({ min: 1, max: 64 }), (text, chunk) => {
        checkOutcomes(readAccounting(text, { chunk }));
      }),
      { numRuns: RUNS },
    );
  });

  it('never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.integer({ min: 1, max: 512 }), (bytes, chunk) => {
        checkOutcomes(readAccounting(Buffer.from(bytes), { chunk }));
      }),
      { numRuns: RUNS },
    );
  });

  it('a well-formed record survives any garbage line before it (after a newline)', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 200 }).filter((s) => !s.includes('"')),
        (garbage) => {
          const out = readAccounting(
            `type,rcpt,bounceCat\n${garbage.replaceAll('\r', '')}\nb,ok@example.com,bad-mailbox\n`,
          );
          const last = out[out.length - 1];
          expect(last).toMatchObject({ ok: true, event: { recipient: 'ok@example.com' } });
        },
      ),
      { numRuns: RUNS },
    );
  });
});
