/**
 * The postmaster digest: many notices → one mail with a text and an HTML part. Every value comes
 * from outside (recipients, provider errors, remote diagnostics) so each is made inert for every
 * place it lands: control characters (CR/LF: no forged lines or headers) and bidi overrides are
 * shown escaped, spreadsheet formula starters (`=`, `+`, `-`, `@`) get a leading `'`, and the HTML
 * part escapes markup. The subject is built from counts only. Pure.
 */
import { escapeHtml } from '../escape-html.ts';
import { NoticeKind, type PostmasterDigest, type PostmasterNotice } from '../ports.ts';

interface DigestOptions {
  /** When the digest is made (ms). */
  generatedAt: number;
  /** More notices are pending beyond these (they follow in the next digest). */
  more?: boolean | undefined;
  /** Characters kept of each value. */
  maxValueLength?: number | undefined;
}

const DEFAULT_MAX_VALUE = 500;

/** Control characters, line/paragraph separators and bidi controls (Trojan Source). */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

/** One line of plain text that cannot break out of its line or be read as a formula. */
function inertText(value: string | undefined, max = DEFAULT_MAX_VALUE): string {
  if (value === undefined || value === '') return '';
  let v = value.length > max ? `${value.slice(0, max)}...` : value;
  v = v.replace(UNSAFE, (ch) => {
    if (ch === '\r') return '\\r';
    if (ch === '\n') return '\\n';
    if (ch === '\t') return '\\t';
    return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  return /^[=+\-@]/.test(v) ? `'${v}` : v;
}

/** A header value: one line, printable ASCII, bounded. */
function headerSafe(value: string, max = 200): string {
  return value
    .replace(/[^\x20-\x7e]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);
}

function isoMinute(ms: number): string {
  // toISOString throws outside ±8.64e15 ms.
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15
    ? new Date(ms).toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z')
    : '?';
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

const COLUMNS = [
  ['when', (n: PostmasterNotice) => isoMinute(n.at)],
  ['subject', (n: PostmasterNotice) => n.subject],
  ['provider', (n: PostmasterNotice) => n.provider],
  ['category', (n: PostmasterNotice) => n.category],
  ['job', (n: PostmasterNotice) => n.jobId],
  ['reason', (n: PostmasterNotice) => n.reason],
  ['detail', (n: PostmasterNotice) => n.detail],
] as const;

function formatPostmasterDigest(
  notices: readonly PostmasterNotice[],
  options: DigestOptions,
): PostmasterDigest {
  const max = options.maxValueLength ?? DEFAULT_MAX_VALUE;
  const sorted = [...notices].sort((a, b) => a.at - b.at);
  const sections = [
    { title: 'Complaints', items: sorted.filter((n) => n.kind === NoticeKind.complaint) },
    { title: 'Failed actions', items: sorted.filter((n) => n.kind === NoticeKind.actionFailed) },
  ].filter((s) => s.items.length > 0);
  const complaints = sorted.filter((n) => n.kind === NoticeKind.complaint).length;
  const failures = sorted.filter((n) => n.kind === NoticeKind.actionFailed).length;
  const counts = `${plural(complaints, 'complaint', 'complaints')}, ${plural(failures, 'failed action', 'failed actions')}`;
  const subject = headerSafe(`[pmta-bounce] ${counts} (${isoMinute(options.generatedAt)})`);
  const moreLine = options.more ? 'More notices are pending; they follow in the next digest.' : undefined;

  const text: string[] = [`pmta-bounce postmaster digest, ${isoMinute(options.generatedAt)}: ${counts}.`];
  if (moreLine) text.push(moreLine);
  for (const section of sections) {
    text.push('', `${section.title} (${section.items.length})`, '');
    for (const n of section.items) {
      const fields = COLUMNS.map(([name, get]) => [name, inertText(get(n), max)] as const).filter(
        ([, v]) => v,
      );
      text.push(`* ${fields.map(([name, v]) => `${name}: ${v}`).join('\n  ')}`);
    }
  }
  text.push(
    '',
    '-- ',
    'Sent by pmta-bounce. Values are quoted as received, with control characters escaped.',
  );

  const html: string[] = [
    '<!DOCTYPE html>',
    '<html><head><meta charset="utf-8"><title>pmta-bounce postmaster digest</title></head><body>',
    `<p>pmta-bounce postmaster digest, ${escapeHtml(isoMinute(options.generatedAt))}: ${escapeHtml(counts)}.</p>`,
  ];
  if (moreLine) html.push(`<p>${escapeHtml(moreLine)}</p>`);
  for (const section of sections) {
    html.push(`<h2>${escapeHtml(section.title)} (${section.items.length})</h2>`);
    html.push(
      '<table border="1" cellpadding="4" cellspacing="0">',
      `<tr>${COLUMNS.map(([name]) => `<th>${escapeHtml(name)}</th>`).join('')}</tr>`,
    );
    for (const n of section.items) {
      html.push(
        `<tr>${COLUMNS.map(([, get]) => `<td>${escapeHtml(inertText(get(n), max))}</td>`).join('')}</tr>`,
      );
    }
    html.push('</table>');
  }
  html.push('</body></html>');
  return { subject, text: `${text.join('\n')}\n`, html: `${html.join('\n')}\n` };
}

export type { DigestOptions };
export { formatPostmasterDigest, headerSafe, inertText };
