/**
 * Column layouts of PowerMTA accounting records. Columns are always found by name; these are only
 * the layouts assumed when a stream carries no `type,...` header line (docs/powermta.md §3).
 */

const RECORD_TYPES = ['b', 'rb', 'f', 'd', 't', 'tq', 'r', 'rs'] as const;
type RecordType = (typeof RECORD_TYPES)[number];

/** PowerMTA 4.5 / 5.x default (`*`) fields for d/b/t records: 23 columns. */
const PMTA5_DEFAULT_FIELDS = [
  'type',
  'timeLogged',
  'timeQueued',
  'orig',
  'rcpt',
  'orcpt',
  'dsnAction',
  'dsnStatus',
  'dsnDiag',
  'dsnMta',
  'bounceCat',
  'srcType',
  'srcMta',
  'dlvType',
  'dlvSourceIp',
  'dlvDestinationIp',
  'dlvEsmtpAvailable',
  'dlvSize',
  'vmta',
  'jobId',
  'envId',
  'queue',
  'vmtaPool',
] as const;

/**
 * PowerMTA <= 4.0 default fields: 22 columns, the 5.x ones with timeImprinted after timeQueued and
 * without queue and vmtaPool (docs/powermta.md §3).
 */
const PMTA4_DEFAULT_FIELDS: readonly string[] = [
  ...PMTA5_DEFAULT_FIELDS.slice(0, 3),
  'timeImprinted',
  ...PMTA5_DEFAULT_FIELDS.slice(3, -2),
];

/**
 * Inferred default fields of `f` records (docs/powermta.md §3: two consumers agree; columns 9-10 are
 * unknown). Only used for a headerless `f` row when no field list is configured.
 */
const PMTA_F_DEFAULT_FIELDS = [
  'type',
  'timeLogged',
  'repSourceIp',
  'feedbackType',
  'format',
  'userAgent',
  'reportingMta',
  'orig',
  'rcpt',
  'unknown9',
  'unknown10',
  'reportedDomain',
  'header_From',
  'header_Return-Path',
  'header_X-job',
  'header_Subject',
] as const;

/** A column layout with a case-insensitive name index. */
interface AccountingLayout {
  readonly fields: readonly string[];
  readonly source: 'header' | 'configured' | 'pmta5-default' | 'pmta4-default' | 'f-default';
  /** Lower-cased field name → column index (first occurrence wins). */
  readonly index: ReadonlyMap<string, number>;
  /** Indices of `header_*` columns with their header names (original case, prefix removed). */
  readonly headerColumns: ReadonlyArray<readonly [number, string]>;
}

function createLayout(fields: readonly string[], source: AccountingLayout['source']): AccountingLayout {
  const index = new Map<string, number>();
  const headerColumns: Array<readonly [number, string]> = [];
  fields.forEach((raw, i) => {
    const name = raw.trim();
    const key = name.toLowerCase();
    if (!index.has(key)) index.set(key, i);
    if (key.startsWith('header_') && name.length > 7) headerColumns.push([i, name.slice(7)]);
  });
  return { fields: fields.map((f) => f.trim()), source, index, headerColumns };
}

const PMTA5_LAYOUT = createLayout(PMTA5_DEFAULT_FIELDS, 'pmta5-default');
const PMTA4_LAYOUT = createLayout(PMTA4_DEFAULT_FIELDS, 'pmta4-default');
const PMTA_F_LAYOUT = createLayout(PMTA_F_DEFAULT_FIELDS, 'f-default');

function isRecordType(value: string): value is RecordType {
  return (RECORD_TYPES as readonly string[]).includes(value);
}

/** A `type,...` row (re)defines the layout, wherever it appears in the stream. */
function isHeaderRow(fields: readonly string[]): boolean {
  return fields.length > 1 && fields[0]!.trim().toLowerCase() === 'type';
}

export type { AccountingLayout, RecordType };
export {
  createLayout,
  isHeaderRow,
  isRecordType,
  PMTA_F_DEFAULT_FIELDS,
  PMTA_F_LAYOUT,
  PMTA4_DEFAULT_FIELDS,
  PMTA4_LAYOUT,
  PMTA5_DEFAULT_FIELDS,
  PMTA5_LAYOUT,
  RECORD_TYPES,
};
