/**
 * `npm run corpus:report`: agreement of the built-in rules with the labelled public corpus
 * (test/fixtures/SOURCES.md §4), by provider and by expected class, as the Markdown tables of
 * docs/classification.md, then every disagreement.
 */
import {
  type CorpusResult,
  decideCorpus,
  unsubscribesWorkingMailbox,
} from '../test/unit/core/classify/bounce-corpus.ts';

const results = decideCorpus();

function table(title: string, key: (r: CorpusResult) => string): void {
  const groups = new Map<string, CorpusResult[]>();
  for (const r of results) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  console.log(`| ${title} | replies | outcome agrees | category agrees | working mailboxes unsubscribed |`);
  console.log('|---|---:|---:|---:|---:|');
  const rows = [...groups.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  for (const [name, list] of [...rows, ['**all**', results] as const]) {
    const agree = list.filter((r) => r.outcome === r.entry.expected.outcome).length;
    const category = list.filter((r) => r.category === r.entry.expected.category).length;
    const lost = list.filter(unsubscribesWorkingMailbox).length;
    const pct = (n: number) => `${((100 * n) / list.length).toFixed(1)} %`;
    console.log(`| ${name} | ${list.length} | ${agree} (${pct(agree)}) | ${pct(category)} | ${lost} |`);
  }
  console.log('');
}

/** The providers the corpus must cover; other sources with fewer than 5 replies are grouped. */
const NAMED = new Set([
  'gmail',
  'yahoo-aol',
  'outlook.com',
  'microsoft-365',
  'icloud',
  'gmx-webde',
  'orange',
]);
for (const n of ['mimecast', 'proofpoint', 'barracuda', 'postfix', 'exim', 'qmail', 'exchange']) NAMED.add(n);
const size = new Map<string, number>();
for (const r of results) size.set(r.entry.provider, (size.get(r.entry.provider) ?? 0) + 1);
table('provider / MTA', (r) =>
  NAMED.has(r.entry.provider) || (size.get(r.entry.provider) ?? 0) >= 5
    ? r.entry.provider
    : 'others (< 5 replies each)',
);
table('expected outcome (fault)', (r) => `${r.entry.expected.outcome} (${r.entry.expected.fault})`);
for (const r of results.filter((x) => x.outcome !== x.entry.expected.outcome)) {
  console.log(
    `- ${r.entry.id} expected ${r.entry.expected.outcome}, decided ${r.outcome} by ${r.rule}: ${JSON.stringify(r.entry.reply.slice(0, 160))}`,
  );
}
