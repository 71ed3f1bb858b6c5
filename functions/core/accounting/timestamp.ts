/**
 * PowerMTA timestamps: UNIX time_t (iso-times no) or `2016-05-29 01:10:51+0200` (iso-times yes),
 * and defensively full ISO 8601. Returns ms since epoch, or undefined when it is not a timestamp.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/** The number in v[from, from + count) if all are ASCII digits, else -1. */
function digitsAt(v: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = v.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * PowerMTA's own iso-times shape, `2016-05-29 01:10:51+0200` (or without the zone), read without
 * the regular expression: it is on every record. undefined: not this shape (the general path decides).
 */
function parsePowerMtaTime(v: string): number | undefined {
  if (v.length !== 24 && v.length !== 19) return undefined;
  if (v[4] !== '-' || v[7] !== '-' || (v[10] !== ' ' && v[10] !== 'T') || v[13] !== ':' || v[16] !== ':')
    return undefined;
  const y = digitsAt(v, 0, 4);
  const month = digitsAt(v, 5, 2);
  const day = digitsAt(v, 8, 2);
  const hour = digitsAt(v, 11, 2);
  const minute = digitsAt(v, 14, 2);
  const second = digitsAt(v, 17, 2);
  if (y < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23) return undefined;
  if (minute < 0 || minute > 59 || second < 0 || second > 60) return undefined;
  let t = Date.UTC(y, month - 1, day, hour, minute, second, 0);
  if (v.length === 24) {
    const sign = v[19] === '-' ? -1 : v[19] === '+' ? 1 : 0;
    const zh = digitsAt(v, 20, 2);
    const zm = digitsAt(v, 22, 2);
    if (sign === 0 || zh < 0 || zm < 0) return undefined;
    if (zm > 59) return Number.NaN; // the right shape with an impossible offset: not a timestamp
    t -= sign * (zh * 60 + zm) * 60_000;
  }
  return t;
}

function parseTimestamp(value: string): number | undefined {
  const fast = parsePowerMtaTime(value);
  if (fast !== undefined) return Number.isFinite(fast) ? fast : undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d{1,13}$/.test(v)) {
    const n = Number(v);
    // More than 11 digits can only be milliseconds for any date PowerMTA can log.
    return v.length > 11 ? n : n * 1000;
  }
  const m = ISO.exec(v);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return undefined;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  let t = Date.UTC(Number(y), month - 1, day, hour, minute, second, ms);
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    if (Number(digits.slice(2, 4)) > 59) return undefined;
    t -= sign * offset * 60_000;
  }
  return Number.isFinite(t) ? t : undefined;
}

export { parseTimestamp };
