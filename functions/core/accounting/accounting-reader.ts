/**
 * Streaming reader: bytes in, one ParseOutcome per record out, in order. The splitter bounds
 * records and numbers lines; csv-parse does the RFC 4180 field work (quoted commas, doubled
 * quotes, quoted newlines); every CSV error becomes a reject, never a stop.
 * Pure: the caller owns the I/O and feeds chunks.
 */
import { parse as createCsvParser, type Options } from 'csv-parse';
import type { ParseOutcome } from '../mail-event.ts';
import { type AccountingParserOptions, createAccountingParser, type InputMode } from './accounting-parser.ts';
import { createCsvRecordSplitter, type SplitRecord } from './csv-record-splitter.ts';

/** A record longer than this is rejected (memory stays bounded whatever the input). */
const MAX_RECORD_BYTES = 128 * 1024;
const NEWLINE = Buffer.from('\n');

interface CsvApi {
  info: { records: number };
  parse(
    buffer: Buffer | undefined,
    end: boolean,
    push: (record: string[]) => void,
    close: () => void,
  ): Error | undefined;
}

interface AccountingReader {
  /** Feed the next chunk; outcomes are delivered synchronously to `onOutcome`. */
  write(chunk: Buffer | string): void;
  /** No more input: flushes the last record. */
  end(): void;
  readonly mode: InputMode;
}

function createCsvApi(onSkip: (error: Error) => void): CsvApi {
  // The synchronous core of csv-parse's stream (`.api`): no stream machinery on the hot path.
  const options: Options = {
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    record_delimiter: '\n',
    skip_records_with_error: true,
    on_skip: (error) => {
      onSkip(error ?? new Error('invalid record'));
      return undefined;
    },
  };
  const parser = createCsvParser(options) as unknown as { api: CsvApi };
  return parser.api;
}

function createAccountingReader(
  options: AccountingParserOptions,
  onOutcome: (outcome: ParseOutcome) => void,
): AccountingReader {
  const parser = createAccountingParser(options);
  // csv-parse emits a record only once it sees the next byte: records wait here, in order.
  const queue: Array<{ line: number; raw: Buffer }> = [];
  const rawText =
    (buf: Buffer): (() => string) =>
    () => {
      const end = buf.length > 0 && buf[buf.length - 1] === 10 ? buf.length - 1 : buf.length;
      return buf.toString('utf8', 0, Math.min(end, 4096));
    };

  const push = (fields: string[]): void => {
    const item = queue.shift();
    if (!item) return;
    const outcome = parser.parse(fields, item.line, rawText(item.raw));
    if (outcome) onOutcome(outcome);
  };
  const onSkip = (error: Error): void => {
    const item = queue.shift();
    if (!item) return;
    const raw = item.raw.toString('utf8', 0, 4096);
    onOutcome({
      ok: false,
      kind: 'rejected',
      line: item.line,
      raw,
      reason: `invalid CSV: ${error.message.split(':')[0]}`,
    });
  };
  let csv = createCsvApi(onSkip);
  const noop = (): void => {};

  /** csv-parse disagrees with the splitter about where records end: flush it and start afresh. */
  function restart(): void {
    csv.parse(undefined, true, push, noop);
    while (queue.length > 0) onSkip(new Error('record not understood: quoting'));
    csv = createCsvApi(onSkip);
  }

  const onRecord = (record: SplitRecord): void => {
    if (!record.ok) {
      // Keep output in input order: whatever csv-parse still holds goes first.
      if (queue.length > 0) restart();
      onOutcome({ ok: false, kind: 'rejected', line: record.line, raw: record.raw, reason: record.reason });
      return;
    }
    queue.push({ line: record.line, raw: record.bytes });
    // csv-parse compares each record's field count with the first record's and builds an Error
    // with a stack trace for every mismatch, even with relax_column_count; mixed record types
    // made that the most expensive step. Each record is fed on its own, so each is "the first".
    csv.info.records = 0;
    csv.parse(record.bytes, false, push, noop);
    if (!record.terminated) csv.parse(NEWLINE, false, push, noop);
    if (queue.length > 1) restart();
  };
  const splitter = createCsvRecordSplitter(MAX_RECORD_BYTES, onRecord);

  return {
    get mode() {
      return parser.mode;
    },
    write(chunk) {
      splitter.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    },
    end() {
      splitter.end();
      restart();
    },
  };
}

export type { AccountingReader };
export { createAccountingReader, MAX_RECORD_BYTES };
