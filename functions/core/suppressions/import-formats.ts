/**
 * The suppression exports `suppressions import` reads (docs/operations.md "Import suppressions"):
 * which header columns carry the address, the reason, the time and the kind in each format, and
 * one row → a suppression or a reason it is not one. Pure; the command streams the CSV.
 */
import { normalizeAddress } from '../email-address.ts';

const IMPORT_FORMATS = ['csv', 'mailgun', 'ses', 'sendgrid', 'mailwizz'] as const;
type ImportFormat = (typeof IMPORT_FORMATS)[number];

interface FormatColumns {
  /** Header names (case-insensitive), first present wins. */
  address: readonly string[];
  reason: readonly string[];
  time: readonly string[];
  /** A column whose value names the kind (bounce/complaint/unsubscribe), if the format has one. */
  kind: readonly string[];
  /** A status column: only rows whose status is one of `suppressedStatuses` are suppressions. */
  status?: readonly string[];
  suppressedStatuses?: readonly string[];
}

const FORMAT_COLUMNS: Record<ImportFormat, FormatColumns> = {
  // Ours (suppressions export) or any CSV with an address/email column.
  csv: {
    address: ['address', 'email', 'email_address'],
    reason: ['reason'],
    time: ['suppressed_at', 'created_at', 'date'],
    kind: ['kind', 'category'],
  },
  // Mailgun suppressions CSV (bounces: address,code,error,created_at; unsubscribes: address,tags,
  // created_at; complaints: address,created_at).
  mailgun: { address: ['address'], reason: ['error', 'code'], time: ['created_at'], kind: [] },
  // SES account suppression list (SuppressedDestinationSummary: EmailAddress,Reason,LastUpdateTime).
  ses: { address: ['emailaddress'], reason: ['reason'], time: ['lastupdatetime'], kind: ['reason'] },
  // SendGrid suppressions CSV (bounces/blocks: email,created,reason,status; spam reports:
  // email,created,ip; unsubscribes: email,created).
  sendgrid: { address: ['email'], reason: ['reason', 'status'], time: ['created'], kind: [] },
  // MailWizz email blacklist export (email,reason,date_added) or a subscribers export (EMAIL,status,...).
  mailwizz: {
    address: ['email'],
    reason: ['reason'],
    time: ['date_added'],
    kind: [],
    status: ['status'],
    suppressedStatuses: ['unsubscribed', 'blacklisted', 'moved'],
  },
};

/** Header → the column index of each field; an error when the address column is missing. */
interface ImportColumns {
  address: number;
  reason: number;
  time: number;
  kind: number;
  status: number;
}

function resolveColumns(format: ImportFormat, header: readonly string[]): ImportColumns | { error: string } {
  const names = header.map((h) => h.trim().toLowerCase());
  const spec = FORMAT_COLUMNS[format];
  const find = (candidates: readonly string[] | undefined) =>
    (candidates ?? []).map((c) => names.indexOf(c)).find((i) => i >= 0) ?? -1;
  const address = find(spec.address);
  if (address < 0)
    return { error: `no address column (${spec.address.join(' or ')}) in the ${format} header` };
  return {
    address,
    reason: find(spec.reason),
    time: find(spec.time),
    kind: find(spec.kind),
    status: find(spec.status),
  };
}

type ImportRow =
  | {
      ok: true;
      address: string;
      reason: string | undefined;
      at: number | undefined;
      category: string | undefined;
    }
  | { ok: false; skip: boolean; reason: string };

const KINDS: Record<string, string> = {
  bounce: 'bounce',
  bounced: 'bounce',
  hard: 'bounce',
  complaint: 'complaint',
  complained: 'complaint',
  spam: 'complaint',
  unsubscribe: 'unsubscribe',
  unsubscribed: 'unsubscribe',
};

/** A time cell: epoch seconds or ms, or anything Date.parse reads; undefined when unreadable. */
function parseTime(value: string | undefined): number | undefined {
  const text = value?.trim() ?? '';
  if (text === '' || text.length > 64) return undefined;
  if (/^\d{1,16}(\.\d+)?$/.test(text)) {
    const n = Number(text);
    return n < 1e11 ? Math.round(n * 1000) : Math.round(n);
  }
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}

function importRow(format: ImportFormat, columns: ImportColumns, record: readonly string[]): ImportRow {
  const cell = (i: number) => (i >= 0 ? record[i]?.trim() : undefined) || undefined;
  const spec = FORMAT_COLUMNS[format];
  const status = cell(columns.status)?.toLowerCase();
  if (status !== undefined && spec.suppressedStatuses && !spec.suppressedStatuses.includes(status))
    return {
      ok: false,
      skip: true,
      reason: `status ${JSON.stringify(status.slice(0, 20))} is not a suppression`,
    };
  const address = normalizeAddress(record[columns.address] ?? '');
  if (!address.ok) return { ok: false, skip: false, reason: address.reason };
  const kind = cell(columns.kind)?.toLowerCase();
  return {
    ok: true,
    address: address.address,
    reason: cell(columns.reason)?.slice(0, 200),
    at: parseTime(cell(columns.time)),
    category: kind !== undefined ? KINDS[kind] : undefined,
  };
}

function isImportFormat(value: string): value is ImportFormat {
  return (IMPORT_FORMATS as readonly string[]).includes(value);
}

export type { ImportColumns, ImportFormat, ImportRow };
export { FORMAT_COLUMNS, IMPORT_FORMATS, importRow, isImportFormat, parseTime, resolveColumns };
