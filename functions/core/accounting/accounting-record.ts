/**
 * One PowerMTA accounting row (already split into fields) + the layout in force → ParseOutcome.
 * Columns are looked up by name; nothing here depends on positions.
 */

import { isAnonymised, normalizeAddress, shorten } from '../email-address.ts';
import type { TrafficSample } from '../guardrails/traffic.ts';
import { EventKind, type MailEvent, type ParseOutcome, type SubscriberRef } from '../mail-event.ts';
import { extractProviderRefs } from '../unsubscribe/provider-refs.ts';
import { type AccountingLayout, isRecordType, type RecordType } from './accounting-layout.ts';
import { parseTimestamp } from './timestamp.ts';

const NOT_ACTIONABLE: Record<string, string> = {
  d: 'record type d (delivery) is not a bounce',
  t: 'record type t (transient attempt) is not final',
  tq: 'record type tq (queue-wide transient error) names no recipient failure',
  r: 'record type r (receipt) is not a bounce',
  rs: 'record type rs (remote status, e.g. delayed DSN) is not final',
};

/** Remote DSN actions that do not mean the recipient failed for good (RFC 3464). */
const NON_FINAL_ACTIONS = new Set(['delayed', 'delivered', 'relayed', 'expanded']);

function field(fields: readonly string[], layout: AccountingLayout, name: string): string | undefined {
  const i = layout.index.get(name);
  if (i === undefined) return undefined;
  const v = fields[i];
  return v === undefined || v === '' ? undefined : v;
}

/**
 * Where the recipient is logged when `rcpt` is empty: PowerMTA's `orcpt` (`rfc822;a@b`) or an
 * original-recipient header logged as `header_*` (Outlook.com/Hotmail complaints carry
 * X-HmXmrOriginalRecipient). Read only for records whose rcpt is empty.
 */
const ORIGINAL_RECIPIENT_HEADERS = new Set([
  'x-hmxmroriginalrecipient',
  'original-rcpt-to',
  'original-recipient',
  'x-original-recipient',
  'x-original-to',
]);

function originalRecipient(fields: readonly string[], layout: AccountingLayout): string | undefined {
  let value = field(fields, layout, 'orcpt');
  for (const [i, name] of layout.headerColumns) {
    if (value) break;
    if (ORIGINAL_RECIPIENT_HEADERS.has(name.toLowerCase()) && fields[i]) value = fields[i];
  }
  if (!value) return undefined;
  const semi = value.indexOf(';');
  return semi >= 0 && /^\s*(rfc822|utf-8)\s*$/i.test(value.slice(0, semi)) ? value.slice(semi + 1) : value;
}

function loggedHeaders(fields: readonly string[], layout: AccountingLayout): Map<string, string> {
  const headers = new Map<string, string>();
  for (const [i, name] of layout.headerColumns) {
    const v = fields[i];
    if (v) headers.set(name.toLowerCase(), v);
  }
  return headers;
}

/** The record's text, computed only when a reject needs it (decoding every line costs). */
type RawText = string | (() => string);

function reject(line: number, raw: RawText, reason: string): ParseOutcome {
  return { ok: false, kind: 'rejected', line, raw: typeof raw === 'string' ? raw : raw(), reason };
}

/** A delivery's dimensions for the deliverability counts; none without a readable time. */
function deliverySample(
  fields: readonly string[],
  layout: AccountingLayout,
  recipient: string | undefined,
): TrafficSample | undefined {
  const timeRaw = field(fields, layout, 'timelogged') ?? field(fields, layout, 'timequeued');
  const at = timeRaw === undefined ? undefined : parseTimestamp(timeRaw);
  if (at === undefined) return undefined;
  return {
    at,
    recordType: 'd',
    orig: field(fields, layout, 'orig')?.trim().toLowerCase(),
    recipient,
    vmta: field(fields, layout, 'vmta'),
    jobId: field(fields, layout, 'jobid'),
  };
}

/** The record type, or the reject naming why the row has no usable type or too many fields. */
function recordTypeOf(
  fields: readonly string[],
  layout: AccountingLayout,
  line: number,
  raw: RawText,
): RecordType | ParseOutcome {
  const rawType = (fields[0] ?? '').trim();
  const type = rawType.toLowerCase();
  if (!isRecordType(type)) {
    return reject(
      line,
      raw,
      `unknown record type ${JSON.stringify(shorten(rawType, 20))} (known: b, rb, f, d, t, tq, r, rs)`,
    );
  }
  if (fields.length > layout.fields.length) {
    return reject(
      line,
      raw,
      `${fields.length} fields but the layout in force (${layout.source}) has ${layout.fields.length}`,
    );
  }
  return type;
}

type Rcpt = ReturnType<typeof normalizeAddress> | undefined;

/** Records that are not bounces or complaints; a delivery keeps its deliverability sample. */
function notActionable(
  fields: readonly string[],
  layout: AccountingLayout,
  line: number,
  type: RecordType,
  rcpt: Rcpt,
  reason: string,
): ParseOutcome {
  const recipient = rcpt?.ok ? rcpt.address : undefined;
  const ignored: ParseOutcome = { ok: false, kind: 'ignored', line, recordType: type, recipient, reason };
  if (type === 'd') {
    const traffic = deliverySample(fields, layout, recipient);
    if (traffic) ignored.traffic = traffic;
  }
  return ignored;
}

/**
 * Whose record this is: a complaint may name nobody when provider ids stand in for the address
 * (anonymised FBL); a bounce must name a valid recipient. A non-final remote DSN is ignored.
 */
function recipientOf(
  type: RecordType,
  r: { raw: string | undefined; parsed: Rcpt },
  refs: readonly SubscriberRef[],
  dsnAction: string | undefined,
  at: { line: number; raw: RawText },
): { recipient: string | undefined } | ParseOutcome {
  const { line, raw } = at;
  const rcpt = r.parsed;
  if (type === 'f') {
    if (rcpt?.ok && !isAnonymised(rcpt.address)) return { recipient: rcpt.address };
    if (refs.length > 0) return { recipient: undefined };
    const why =
      r.raw === undefined ? 'rcpt is empty' : rcpt?.ok ? 'rcpt is anonymised' : 'rcpt is not an address';
    return reject(
      line,
      raw,
      `complaint without a usable recipient: ${why} and no provider ids in header_* fields`,
    );
  }
  if (r.raw === undefined) return reject(line, raw, 'rcpt missing');
  if (!rcpt?.ok) return reject(line, raw, `rcpt: ${rcpt?.ok === false ? rcpt.reason : 'invalid'}`);
  if (type === 'rb' && dsnAction && NON_FINAL_ACTIONS.has(dsnAction)) {
    const reason = `remote DSN action ${dsnAction} is not a failure`;
    return { ok: false, kind: 'ignored', line, recordType: type, recipient: rcpt.address, reason };
  }
  return { recipient: rcpt.address };
}

function parseAccountingRecord(
  fields: readonly string[],
  layout: AccountingLayout,
  line: number,
  raw: RawText,
): ParseOutcome {
  const type = recordTypeOf(fields, layout, line, raw);
  if (typeof type !== 'string') return type;
  const rcptRaw = field(fields, layout, 'rcpt') ?? originalRecipient(fields, layout);
  const rcpt = rcptRaw === undefined ? undefined : normalizeAddress(rcptRaw);
  const reason = NOT_ACTIONABLE[type];
  if (reason) return notActionable(fields, layout, line, type, rcpt, reason);

  const timeRaw = field(fields, layout, 'timelogged') ?? field(fields, layout, 'timequeued');
  const occurredAt = timeRaw === undefined ? undefined : parseTimestamp(timeRaw);
  if (timeRaw !== undefined && occurredAt === undefined) {
    const name = layout.index.has('timelogged') ? 'timeLogged' : 'timeQueued';
    return reject(line, raw, `${name}: not a timestamp ${JSON.stringify(shorten(timeRaw, 40))}`);
  }
  const headers = layout.headerColumns.length > 0 ? loggedHeaders(fields, layout) : undefined;
  const dsnAction = field(fields, layout, 'dsnaction')?.toLowerCase();
  const refs = type === 'f' && headers ? extractProviderRefs(headers) : [];
  const who = recipientOf(type, { raw: rcptRaw, parsed: rcpt }, refs, dsnAction, { line, raw });
  if ('ok' in who) return who;
  const jobId = field(fields, layout, 'jobid') ?? headers?.get('x-job');
  return {
    ok: true,
    event: buildEvent(fields, layout, {
      line,
      type,
      recipient: who.recipient,
      refs,
      dsnAction,
      jobId,
      timeRaw,
      occurredAt,
    }),
  };
}

/** The normalised event of a bounce or complaint that passed every check. */
function buildEvent(
  fields: readonly string[],
  layout: AccountingLayout,
  e: {
    line: number;
    type: RecordType;
    recipient: string | undefined;
    refs: SubscriberRef[];
    dsnAction: string | undefined;
    jobId: string | undefined;
    timeRaw: string | undefined;
    occurredAt: number | undefined;
  },
): MailEvent {
  const dsnStatus = field(fields, layout, 'dsnstatus');
  const feedbackType = field(fields, layout, 'feedbacktype')?.trim().toLowerCase();
  const envId = field(fields, layout, 'envid');
  const { type, recipient, refs, jobId } = e;
  return {
    line: e.line,
    recordType: type,
    kind:
      type === 'f'
        ? feedbackType === 'opt-out'
          ? EventKind.unsubscribe
          : EventKind.complaint
        : EventKind.bounce,
    recipient,
    orig: field(fields, layout, 'orig')?.trim().toLowerCase(),
    bounceCat: field(fields, layout, 'bouncecat')?.trim().toLowerCase(),
    dsnMta: field(fields, layout, 'dsnmta'),
    dsnAction: e.dsnAction,
    dsnStatus,
    dsnDiag: field(fields, layout, 'dsndiag'),
    feedbackType,
    jobId,
    vmta: field(fields, layout, 'vmta'),
    occurredAt: e.occurredAt,
    refs,
    // What makes a record the same record when read again (soft-bounce dedupe, the audit).
    key: `${type}|${recipient ?? refs.map((r) => `${r.providerType}:${r.listId}:${r.subscriberId}`).join(',')}|${e.timeRaw ?? ''}|${jobId ?? ''}|${envId ?? ''}|${dsnStatus ?? ''}|${feedbackType ?? ''}`,
  };
}

/** A line of the PHP bouncehandler's standalone CSV: the first column is the address. */
function parsePlainRecord(fields: readonly string[], line: number, raw: RawText): ParseOutcome {
  const value = fields[0] ?? '';
  const address = normalizeAddress(value);
  if (!address.ok) return reject(line, raw, `first column: ${address.reason}`);
  const event: MailEvent = {
    line,
    recordType: 'plain',
    kind: EventKind.manual,
    recipient: address.address,
    orig: undefined,
    bounceCat: undefined,
    dsnAction: undefined,
    dsnStatus: undefined,
    dsnDiag: undefined,
    feedbackType: undefined,
    jobId: undefined,
    occurredAt: undefined,
    refs: [],
    key: `plain|${address.address}`,
  };
  return { ok: true, event };
}

export type { RawText };
export { parseAccountingRecord, parsePlainRecord };
