/**
 * The stateful part of reading a stream: which input mode it is (decided once, from the first
 * record), and which column layout is in force (`type,...` header rows may appear at any line
 * and change it mid-stream).
 */

import type { ParseOutcome } from '../mail-event.ts';
import {
  type AccountingLayout,
  createLayout,
  isHeaderRow,
  isRecordType,
  PMTA_F_LAYOUT,
  PMTA4_LAYOUT,
  PMTA5_LAYOUT,
} from './accounting-layout.ts';
import { parseAccountingRecord, parsePlainRecord, type RawText } from './accounting-record.ts';

const InputMode = {
  /** Nothing read yet. */
  unknown: 'unknown',
  /** PowerMTA accounting CSV. */
  accounting: 'accounting',
  /** The PHP bouncehandler's standalone CSV: one address in the first column. */
  plain: 'plain',
} as const;
type InputMode = (typeof InputMode)[keyof typeof InputMode];

const PLAIN_HEADER_NAMES = new Set([
  'email',
  'e-mail',
  'email address',
  'emailaddress',
  'address',
  'recipient',
  'rcpt',
]);

interface AccountingParserOptions {
  /** Layout for rows seen before any header line (PowerMTA `record-fields`). */
  fields?: readonly string[] | undefined;
}

interface AccountingParser {
  readonly mode: InputMode;
  readonly layout: AccountingLayout | undefined;
  /** undefined for header rows (they change the layout but are not records). */
  parse(fields: readonly string[], line: number, raw: RawText): ParseOutcome | undefined;
}

function createAccountingParser(options: AccountingParserOptions = {}): AccountingParser {
  let mode: InputMode = InputMode.unknown;
  const configured = options.fields ? createLayout(options.fields, 'configured') : undefined;
  let header: AccountingLayout | undefined;

  function detect(fields: readonly string[]): InputMode {
    const first = (fields[0] ?? '').trim().toLowerCase();
    if (isHeaderRow(fields) || isRecordType(first)) return InputMode.accounting;
    if (first.includes('@') || PLAIN_HEADER_NAMES.has(first)) return InputMode.plain;
    // Unknown first column: read as accounting so each row gets a reject naming its record type.
    return InputMode.accounting;
  }

  function layoutFor(fields: readonly string[]): AccountingLayout {
    if (header) return header;
    if (configured) return configured;
    const type = (fields[0] ?? '').trim().toLowerCase();
    if (type === 'f') return PMTA_F_LAYOUT;
    return fields.length === PMTA4_LAYOUT.fields.length ? PMTA4_LAYOUT : PMTA5_LAYOUT;
  }

  return {
    get mode() {
      return mode;
    },
    get layout() {
      return header ?? configured;
    },
    parse(fields, line, raw) {
      if (mode === InputMode.unknown) {
        mode = detect(fields);
        if (mode === InputMode.plain && PLAIN_HEADER_NAMES.has((fields[0] ?? '').trim().toLowerCase())) {
          return undefined;
        }
      }
      if (mode === InputMode.plain) return parsePlainRecord(fields, line, raw);
      if (isHeaderRow(fields)) {
        header = createLayout(fields, 'header');
        return undefined;
      }
      return parseAccountingRecord(fields, layoutFor(fields), line, raw);
    },
  };
}

export type { AccountingParser, AccountingParserOptions };
export { createAccountingParser, InputMode };
