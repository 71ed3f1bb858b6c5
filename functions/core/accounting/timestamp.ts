/**
 * PowerMTA timestamps: UNIX time_t (iso-times no) or `2016-05-29 01:10:51+0200` (iso-times yes),
 * and defensively full ISO 8601. Returns ms since epoch, or undefined when it is not a timestamp.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

function parseTimestamp(value: string): number | undefined {
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
