/**
 * Streaming reader: bytes in, one ParseOutcome per record out, in order. The core's record
 * splitter bounds records and numbers lines; fields are cut out of each record's bytes directly
 * (record-fields.ts), and the rare record whose quoting that fast path does not take is handed to
 * csv-parse, so odd input reads exactly as csv-parse reads it. Every CSV error becomes a reject,
 * never a stop. Pure: the caller owns the I/O and feeds chunks.
 */

import type { ParseOutcome } from '../mail-event.ts';
import { type AccountingParserOptions, createAccountingParser, type InputMode } from './accounting-parser.ts';
import { RecordFieldCutter } from './record-fields.ts';
import { RecordCut, type RecordInfo, RecordSplitter } from './record-splitter.ts';

/** A record longer than this is rejected (memory stays bounded whatever the input). */
const MAX_RECORD_BYTES = 128 * 1024;
/** Beyond this many lines a still-open quote is taken for a stray quote, not a multi-line field. */
const MAX_LINES_IN_QUOTES = 100;
/** Rejects keep this much of the record's text. */
const RAW_CHARS = 4096;
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

interface AccountingReader {
  /** Feed the next chunk; outcomes are delivered synchronously to `onOutcome`. */
  write(chunk: Buffer | string): void;
  /** No more input: flushes the last record. */
  end(): void;
  readonly mode: InputMode;
}

function hasBom(buf: Buffer, start: number, end: number): boolean {
  return (
    end - start >= 3 &&
    buf[start] === UTF8_BOM[0] &&
    buf[start + 1] === UTF8_BOM[1] &&
    buf[start + 2] === UTF8_BOM[2]
  );
}

/** A record's text for a reject: CRLF read as LF, as everywhere else in the reader. */
function textOf(buf: Buffer, start: number, end: number, chars: number): string {
  return buf
    .toString('utf8', start, Math.min(end, start + chars * 4))
    .slice(0, chars)
    .replaceAll('\r\n', '\n');
}

function cutReason(cut: RecordCut): string {
  return cut === RecordCut.unbalancedQuote
    ? 'unbalanced quote (quoted field never closed)'
    : `record longer than ${MAX_RECORD_BYTES} bytes`;
}

function createAccountingReader(
  options: AccountingParserOptions,
  onOutcome: (outcome: ParseOutcome) => void,
): AccountingReader {
  const parser = createAccountingParser(options);
  const splitter = new RecordSplitter({
    maxRecordBytes: MAX_RECORD_BYTES,
    maxLinesInQuotes: MAX_LINES_IN_QUOTES,
  });
  const cutter = new RecordFieldCutter();
  let first = true;
  // The record being parsed, for the one raw-text closure (decoded only when a reject needs it).
  let cur: Buffer = Buffer.alloc(0);
  let curStart = 0;
  let curEnd = 0;
  const rawText = (): string => textOf(cur, curStart, curEnd, RAW_CHARS);

  const reject = (line: number, raw: string, reason: string): void =>
    onOutcome({ ok: false, kind: 'rejected', line, raw, reason });

  const onRecord = (buf: Buffer, start: number, end: number, info: RecordInfo): void => {
    if (info.cut === RecordCut.continued) return; // the rest of a line already rejected
    if (info.cut !== RecordCut.none || end - start > MAX_RECORD_BYTES) {
      const chars = info.cut === RecordCut.unbalancedQuote ? RAW_CHARS : 200;
      reject(info.line, textOf(buf, start, end, chars), cutReason(info.cut));
      return;
    }
    if (start === end) return; // a blank line: no record, but it counts as a line
    if (first) {
      first = false;
      if (hasBom(buf, start, end)) start += 3;
    }
    const fields = cutter.cut(buf, start, end);
    if (typeof fields === 'string') {
      reject(info.line, textOf(buf, start, end, RAW_CHARS), fields);
      return;
    }
    cur = buf;
    curStart = start;
    curEnd = end;
    const outcome = parser.parse(fields, info.line, rawText);
    if (outcome) onOutcome(outcome);
  };

  return {
    get mode() {
      return parser.mode;
    },
    write(chunk) {
      cutter.reset();
      splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk, onRecord);
    },
    end() {
      cutter.reset();
      splitter.end(onRecord);
    },
  };
}

export type { AccountingReader };
export { createAccountingReader, MAX_LINES_IN_QUOTES, MAX_RECORD_BYTES };
