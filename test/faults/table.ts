/** The fault matrix's result table (markdown, as docs/testing.md shows it). */
import type { ScenarioResult } from './scenarios.ts';

function formatTable(results: readonly ScenarioResult[]): string {
  const head = [
    'fault',
    'in',
    'done',
    'already',
    'soft',
    'ignored',
    'rejected',
    'parked',
    're-fed',
    'lost',
    'dup',
    'state',
    'known',
    's',
  ];
  const rows = results.map((r) => [
    r.name,
    r.recordsIn,
    r.outcomes.done,
    r.outcomes.already,
    r.outcomes.soft,
    r.outcomes.ignored,
    r.outcomes.rejected,
    r.parked,
    r.refed,
    r.lost,
    r.duplicated,
    r.mismatched === 0 ? 'ok' : `${r.mismatched} off`,
    r.known,
    r.seconds,
  ]);
  const cells = [head, ...rows].map((row) => row.map(String));
  const widths = head.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(cells[0]!),
    `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

export { formatTable };
