/**
 * Just enough RFC 5322 header parsing for unsubscribe mail: the header block (unfolded), bounded,
 * and address lists. Bodies are never looked at. Pure.
 */

interface MailHeader {
  name: string;
  value: string;
}

interface HeaderLimits {
  /** Header fields kept; the rest are dropped and `truncated` is set. */
  maxHeaders: number;
  /** Characters kept per value. */
  maxValueLength: number;
}

const DEFAULT_LIMITS: HeaderLimits = { maxHeaders: 200, maxValueLength: 4096 };
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

interface ParsedHeaders {
  headers: MailHeader[];
  /** True when fields or values were cut to the limits, or the block did not end. */
  truncated: boolean;
}

/**
 * Parses the header block at the start of `text` (up to the first empty line). Folded lines are
 * joined with a single space; lines that are not `Name: value` are skipped.
 */
function parseMailHeaders(text: string, limits: HeaderLimits = DEFAULT_LIMITS): ParsedHeaders {
  const headers: MailHeader[] = [];
  let truncated = false;
  let ended = false;
  let current: MailHeader | undefined;
  const flush = () => {
    if (!current) return;
    if (headers.length >= limits.maxHeaders) truncated = true;
    else {
      if (current.value.length > limits.maxValueLength) {
        current.value = current.value.slice(0, limits.maxValueLength);
        truncated = true;
      }
      headers.push(current);
    }
    current = undefined;
  };
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).replace(/\r$/, '');
    start = end + 1;
    if (line === '') {
      ended = true;
      break;
    }
    if (line[0] === ' ' || line[0] === '\t') {
      // Bounded so a hostile endless fold cannot grow one value without limit.
      if (current && current.value.length <= limits.maxValueLength) current.value += ` ${line.trim()}`;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (!FIELD_NAME.test(name)) continue;
    current = { name, value: line.slice(colon + 1).trim() };
  }
  flush();
  return { headers, truncated: truncated || !ended };
}

/** The first value of a header, case-insensitive name. */
function headerValue(headers: readonly MailHeader[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === lower)?.value;
}

/**
 * Bare addresses of an address-list header (`"Doe, J" <j@x.org>, k@y.org (comment)`): commas
 * inside quotes, angle brackets or comments do not split.
 */
function parseAddressList(value: string): string[] {
  // Parts are slices between the splitting commas (one pass; no per-character string building).
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let angle = false;
  let start = 0;
  for (let i = 0; i < value.length; i += 1) {
    const ch = value[i]!;
    if (ch === '\\' && quoted) i += 1;
    else if (ch === '"' && depth === 0) quoted = !quoted;
    else if (!quoted && ch === '(') depth += 1;
    else if (!quoted && ch === ')' && depth > 0) depth -= 1;
    else if (!quoted && depth === 0 && ch === '<') angle = true;
    else if (!quoted && depth === 0 && ch === '>') angle = false;
    else if (ch === ',' && !quoted && depth === 0 && !angle) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  const out: string[] = [];
  for (const part of parts) {
    const inAngles = /<([^<>]*)>/.exec(part)?.[1];
    const bare = (inAngles ?? part.replace(/\([^()]*\)/g, '')).trim();
    if (bare.includes('@') && !/\s/.test(bare)) out.push(bare);
  }
  return out;
}

export type { HeaderLimits, MailHeader, ParsedHeaders };
export { headerValue, parseAddressList, parseMailHeaders };
