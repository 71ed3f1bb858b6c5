/**
 * Splits a byte stream into CSV records (a quoted field may hold newlines) with exact line
 * numbers and a hard bound on record size, before csv-parse sees them. It exists so that one bad
 * quote or one giant line costs one reject, not the rest of the stream and not unbounded memory.
 *
 * Quote rule (as csv-parse with relax_quotes): a quote opens a quoted section only at the start
 * of a field; inside it, `""` is a literal quote and any other `"` closes it.
 */

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

/** Beyond this many lines a still-open quote is taken for a stray quote, not a multi-line field. */
const MAX_LINES_IN_QUOTES = 100;

type SplitRecord =
  /** `bytes` includes the terminating LF when `terminated`: csv-parse needs it to close the record. */
  | { ok: true; line: number; bytes: Buffer; terminated: boolean }
  | { ok: false; line: number; raw: string; reason: string };

interface CsvRecordSplitter {
  write(chunk: Buffer): void;
  end(): void;
}

function createCsvRecordSplitter(
  maxRecordBytes: number,
  emit: (record: SplitRecord) => void,
): CsvRecordSplitter {
  let parts: Buffer[] = [];
  let length = 0;
  let line = 1; // line where the current record starts
  let linesInRecord = 0;
  let inQuotes = false;
  let fieldStart = true;
  let quoteSeenInQuotes = false; // previous byte was a quote inside a quoted section
  let oversized = false;
  let lastWasCr = false;

  function reset(): void {
    parts = [];
    length = 0;
    linesInRecord = 0;
    inQuotes = false;
    fieldStart = true;
    quoteSeenInQuotes = false;
    oversized = false;
  }

  function take(): Buffer {
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
  }

  function finishRecord(terminated: boolean): void {
    if (oversized) {
      emit({
        ok: false,
        line,
        raw: take().toString('utf8', 0, 200),
        reason: `record longer than ${maxRecordBytes} bytes`,
      });
    } else if (length > 0) {
      emit({ ok: true, line, bytes: take(), terminated });
    }
    line += linesInRecord + 1;
    reset();
  }

  function append(chunk: Buffer, from: number, to: number): void {
    if (to <= from || oversized) return;
    if (length + (to - from) > maxRecordBytes) {
      // Keep only a prefix for the reject's raw text; drop the rest so memory stays bounded.
      const room = Math.max(0, Math.min(4096, maxRecordBytes) - length);
      if (room > 0) parts.push(chunk.subarray(from, from + room));
      length += to - from;
      oversized = true;
      return;
    }
    // No copy: callers hand over fresh chunks and never reuse them.
    parts.push(chunk.subarray(from, to));
    length += to - from;
  }

  /** An open quote ran too long: reject its first line and re-scan what followed it. */
  function runaway(): Buffer {
    const text = take();
    const nl = text.indexOf(LF);
    const first = nl === -1 ? text : text.subarray(0, nl);
    emit({
      ok: false,
      line,
      raw: first.toString('utf8', 0, 4096),
      reason: 'unbalanced quote (quoted field never closed)',
    });
    const rest = nl === -1 ? Buffer.alloc(0) : Buffer.from(text.subarray(nl + 1));
    line += 1;
    reset();
    return rest;
  }

  function scan(chunk: Buffer): void {
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk[i]!;
      if (inQuotes) {
        if (quoteSeenInQuotes) {
          quoteSeenInQuotes = false;
          if (c === QUOTE) continue; // "" inside quotes
          inQuotes = false; // the previous quote closed the section; fall through for c
        } else if (c === QUOTE) {
          quoteSeenInQuotes = true;
          continue;
        } else {
          if (c === LF) {
            linesInRecord++;
            if (linesInRecord >= MAX_LINES_IN_QUOTES) {
              append(chunk, start, i + 1);
              const rest = runaway();
              scan(Buffer.concat([rest, chunk.subarray(i + 1)]));
              return;
            }
          }
          continue;
        }
      }
      if (c === LF) {
        if (i === start && length === 0) {
          // An empty line: no record, but it counts as a line.
          start = i + 1;
          line++;
          continue;
        }
        append(chunk, start, i + 1);
        start = i + 1;
        finishRecord(true);
        continue;
      }
      if (c === QUOTE && fieldStart) {
        inQuotes = true;
        fieldStart = false;
        continue;
      }
      fieldStart = c === COMMA;
    }
    append(chunk, start, chunk.length);
  }

  return {
    write(chunk) {
      // CRLF → LF: PowerMTA writes CRLF, hand-edited files may mix both; a CR split from its LF
      // across chunks is held back.
      let buf = chunk;
      if (lastWasCr) buf = Buffer.concat([Buffer.from([CR]), buf]);
      lastWasCr = buf.length > 0 && buf[buf.length - 1] === CR;
      if (lastWasCr) buf = buf.subarray(0, buf.length - 1);
      if (buf.indexOf(CR) !== -1)
        buf = Buffer.from(buf.toString('latin1').replaceAll('\r\n', '\n'), 'latin1');
      scan(buf);
    },
    end() {
      if (lastWasCr) {
        lastWasCr = false;
        scan(Buffer.from([CR]));
      }
      if (quoteSeenInQuotes) {
        inQuotes = false;
        quoteSeenInQuotes = false;
      }
      if (inQuotes && linesInRecord > 0) {
        const rest = runaway();
        scan(rest);
        this.end();
        return;
      }
      if (length > 0 || oversized) finishRecord(false);
    },
  };
}

export type { CsvRecordSplitter, SplitRecord };
export { createCsvRecordSplitter, MAX_LINES_IN_QUOTES };
