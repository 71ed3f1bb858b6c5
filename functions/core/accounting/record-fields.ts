/**
 * Cuts one CSV record (bytes, terminator removed) into its fields, as csv-parse with
 * `relax_quotes` and `relax_column_count` reads it: a field that starts with a quote runs to the
 * quote that is followed by a comma or the record's end, `""` inside it is one quote, and CRLF
 * inside it reads as LF. The common shapes are cut directly (no per-record parser state, no
 * intermediate objects); any other quoting goes to csv-parse itself, so the two never disagree.
 */
import { parse as createCsvParser, type Options } from 'csv-parse';

const QUOTE = 0x22;
const COMMA = 0x2c;

interface CsvApi {
  info: { records: number };
  parse(
    buffer: Buffer | undefined,
    end: boolean,
    push: (record: string[]) => void,
    close: () => void,
  ): Error | undefined;
}

const CSV_OPTIONS: Options = {
  relax_column_count: true,
  relax_quotes: true,
  record_delimiter: '\n',
  skip_records_with_error: true,
};

const noop = (): void => {};

/**
 * A field's text: Buffer's own utf8Slice where the runtime has it (every Node release so far),
 * which skips toString's argument checks — a tenth of a dry run's reading time, twelve calls per
 * record (docs/benchmarks.md). The same bytes decode to the same string either way.
 */
type Utf8Sliceable = Buffer & { utf8Slice?: (start: number, end: number) => string };
const decode: (buf: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as Utf8Sliceable).utf8Slice === 'function'
    ? (buf, start, end) => (buf as Utf8Sliceable).utf8Slice!(start, end)
    : (buf, start, end) => buf.toString('utf8', start, end);

/** The odd record: csv-parse's synchronous core (`.api`) on that record alone. */
function fieldsByCsvParse(bytes: Buffer): string[] | string {
  let error: Error | undefined;
  const records: string[][] = [];
  const parser = createCsvParser({
    ...CSV_OPTIONS,
    on_skip: (e) => {
      error = e ?? new Error('invalid record');
      return undefined;
    },
  }) as unknown as { api: CsvApi };
  const text = Buffer.from(bytes.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
  const thrown = parser.api.parse(
    Buffer.concat([text, Buffer.from('\n')]),
    true,
    (r) => records.push(r),
    noop,
  );
  error ??= thrown;
  if (records.length === 1 && !error) return records[0]!;
  if (error) return `invalid CSV: ${error.message.split(':')[0]}`;
  return 'invalid CSV: record not understood';
}

function quotedText(buf: Buffer, start: number, end: number, doubled: boolean): string {
  let text = decode(buf, start, end);
  if (doubled) text = text.replaceAll('""', '"');
  if (text.includes('\r')) text = text.replaceAll('\r\n', '\n');
  return text;
}

/**
 * Cuts records into fields. Keeps the next comma / quote position found in the current buffer:
 * a search may run past the record's end (into the records after it), and reusing its result keeps
 * each byte searched about once, whatever the number of fields per record.
 */
class RecordFieldCutter {
  private buf: Buffer | undefined;
  private comma = -2;
  private commaFrom = 0;
  private quote = -2;
  private quoteFrom = 0;

  /** The caller may reuse its buffers: forget positions found in the previous one. */
  reset(): void {
    this.buf = undefined;
  }

  /**
   * The fields of `buf[start, end)`, or a reject reason. The record comes from the record
   * splitter, whose quote rules are the same: a quoted field it let through closes in the record.
   */
  cut(buf: Buffer, start: number, end: number): string[] | string {
    if (buf !== this.buf) {
      this.buf = buf;
      this.comma = -2;
      this.quote = -2;
    }
    const fields: string[] = [];
    let p = start;
    for (;;) {
      if (p < end && buf[p] === QUOTE) {
        let r = p + 1;
        let doubled = false;
        for (;;) {
          const q = this.nextQuote(buf, r);
          if (q === -1 || q >= end) return fieldsByCsvParse(buf.subarray(start, end));
          if (q + 1 < end && buf[q + 1] === QUOTE) {
            doubled = true;
            r = q + 2;
            continue;
          }
          if (q + 1 < end && buf[q + 1] !== COMMA) return fieldsByCsvParse(buf.subarray(start, end));
          fields.push(quotedText(buf, p + 1, q, doubled));
          if (q + 1 === end) return fields;
          p = q + 2;
          break;
        }
        continue;
      }
      const comma = this.nextComma(buf, p);
      if (comma === -1 || comma >= end) {
        fields.push(decode(buf, p, end));
        return fields;
      }
      fields.push(decode(buf, p, comma));
      p = comma + 1;
    }
  }

  private nextComma(buf: Buffer, from: number): number {
    if (this.comma >= from || (this.comma === -1 && this.commaFrom <= from)) return this.comma;
    this.commaFrom = from;
    this.comma = buf.indexOf(COMMA, from);
    return this.comma;
  }

  private nextQuote(buf: Buffer, from: number): number {
    if (this.quote >= from || (this.quote === -1 && this.quoteFrom <= from)) return this.quote;
    this.quoteFrom = from;
    this.quote = buf.indexOf(QUOTE, from);
    return this.quote;
  }
}

export { fieldsByCsvParse, RecordFieldCutter };
