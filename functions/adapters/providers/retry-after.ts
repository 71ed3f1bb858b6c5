/**
 * Parses an HTTP Retry-After value: delta seconds or an HTTP-date (RFC 9110 §10.2.3).
 * Returns milliseconds to wait from `nowMs`, or undefined when absent or unreadable.
 */
function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (value === null || value === undefined) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  // Only accept something that looks like a date: Date.parse is lenient with junk like "1.5".
  if (!/[A-Za-z]{3}/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - nowMs);
}

export { parseRetryAfter };
