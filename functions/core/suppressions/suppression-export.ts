/**
 * `suppressions export` rows: CSV (one header line, RFC 4180 quoting, cells a spreadsheet would run
 * as a formula are prefixed with `'`) and JSON objects. Pure: the command streams what these return.
 */
import type { SuppressionRecord } from './suppression-ledger.ts';

const EXPORT_COLUMNS = [
  'address',
  'suppressed_at',
  'kind',
  'category',
  'rule',
  'record_type',
  'job',
  'reason',
  'providers_done',
  'lists_changed',
] as const;

/** Leading characters spreadsheets treat as a formula (OWASP CSV injection), tab and CR included. */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);

function csvCell(value: string): string {
  const safe = value.length > 0 && FORMULA_START.has(value[0]!) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** `provider:list` (list name in parentheses when known), `;`-separated. */
function listsChanged(record: SuppressionRecord): string {
  return record.changed
    .map((c) => `${c.provider}:${c.listId}${c.listName ? ` (${c.listName})` : ''}`)
    .join(';');
}

function exportCsvHeader(): string {
  return `${EXPORT_COLUMNS.join(',')}\r\n`;
}

function exportCsvRow(record: SuppressionRecord): string {
  const cells = [
    record.subject,
    iso(record.at),
    record.kind,
    record.category ?? '',
    record.rule ?? '',
    record.recordType ?? '',
    record.jobId ?? '',
    record.reason,
    record.providersDone.join(';'),
    listsChanged(record),
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}

function exportJsonObject(record: SuppressionRecord): Record<string, unknown> {
  return {
    address: record.subject,
    suppressedAt: iso(record.at),
    kind: record.kind,
    category: record.category ?? null,
    rule: record.rule ?? null,
    recordType: record.recordType ?? null,
    job: record.jobId ?? null,
    reason: record.reason,
    providersDone: record.providersDone,
    listsChanged: record.changed,
  };
}

export { csvCell, EXPORT_COLUMNS, exportCsvHeader, exportCsvRow, exportJsonObject };
