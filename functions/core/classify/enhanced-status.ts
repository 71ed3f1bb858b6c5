/**
 * The enhanced status code (RFC 3463 class.subject.detail) that a rule is matched against, packed
 * in one number (class * 1e6 + subject * 1e3 + detail; 0 = none) so nothing is allocated per
 * record. PowerMTA's dsnStatus is used unless it is empty or generic (x.0.0); then the first code
 * inside the remote reply (`550-5.1.1`, `(#5.1.1)`) is taken (docs/classification.md).
 */

const NONE = 0;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Reads `d.d{1,3}.d{1,3}` starting at `i`; the class must be 2, 4 or 5. */
function readCode(text: string, i: number, end: number): number {
  const cls = text.charCodeAt(i) - 48;
  if (cls !== 2 && cls !== 4 && cls !== 5) return NONE;
  if (text.charCodeAt(i + 1) !== 46) return NONE;
  let j = i + 2;
  let subject = 0;
  let n = 0;
  while (j < end && n < 4 && isDigit(text.charCodeAt(j))) {
    subject = subject * 10 + text.charCodeAt(j) - 48;
    j++;
    n++;
  }
  if (n === 0 || n > 3 || text.charCodeAt(j) !== 46) return NONE;
  j++;
  let detail = 0;
  n = 0;
  while (j < end && n < 4 && isDigit(text.charCodeAt(j))) {
    detail = detail * 10 + text.charCodeAt(j) - 48;
    j++;
    n++;
  }
  if (n === 0 || n > 3) return NONE;
  const after = j < end ? text.charCodeAt(j) : 32;
  if (isDigit(after) || (after === 46 && isDigit(text.charCodeAt(j + 1)))) return NONE;
  return cls * 1_000_000 + subject * 1000 + detail;
}

/** The first enhanced code in `text[0, end)` that stands alone (not part of an IP address). */
function findCode(text: string, end: number): number {
  for (let i = 0; i < end - 4; i++) {
    const c = text.charCodeAt(i);
    if (c !== 50 && c !== 52 && c !== 53) continue;
    const before = i === 0 ? 32 : text.charCodeAt(i - 1);
    if (isDigit(before) || before === 46) continue;
    const code = readCode(text, i, end);
    if (code !== NONE) return code;
  }
  return NONE;
}

function isGeneric(code: number): boolean {
  return code % 1_000_000 === 0;
}

/** dsnStatus when specific; else the reply's own code; else the generic dsnStatus (or none). */
function effectiveStatus(dsnStatus: string | undefined, reply: string | undefined, replyEnd: number): number {
  let start = 0;
  if (dsnStatus) while (start < dsnStatus.length && dsnStatus.charCodeAt(start) === 32) start++;
  const own = dsnStatus ? readCode(dsnStatus, start, Math.min(dsnStatus.length, start + 12)) : NONE;
  if (own !== NONE && !isGeneric(own)) return own;
  const inReply = reply ? findCode(reply, replyEnd) : NONE;
  return inReply !== NONE ? inReply : own;
}

function formatStatus(code: number): string {
  if (code === NONE) return '';
  return `${Math.floor(code / 1_000_000)}.${Math.floor(code / 1000) % 1000}.${code % 1000}`;
}

export { effectiveStatus, formatStatus, NONE as NO_STATUS };
