/**
 * Whole numbers with thousands separators ("1,234,567"), as `toLocaleString('en-US')` writes them,
 * without it: the first locale-aware number format loads ICU's number data, ~6 MB of peak RSS in a
 * run that reads nothing (docs/benchmarks.md, "Startup and the RSS floor").
 */
function formatCount(n: number): string {
  const digits = String(Math.round(Math.abs(n)));
  let grouped = digits.slice(0, digits.length % 3 || 3);
  for (let at = grouped.length; at < digits.length; at += 3) grouped += `,${digits.slice(at, at + 3)}`;
  return n < 0 && grouped !== '0' ? `-${grouped}` : grouped;
}

export { formatCount };
