/**
 * The public bounce corpus (test/fixtures/bounce-corpus, SOURCES.md §4) decided by the built-in
 * rules under the default policy: shared by the agreement test and `bench/corpus-agreement.ts`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { createClassifier } from '#core/classify/classify.ts';
import { parseConfig } from '#core/config-schema.ts';
import { decideBounce } from '#core/decide/policy.ts';

interface CorpusEntry {
  id: string;
  source: string;
  provider: string;
  mta: string;
  status: string;
  reply: string;
  sisimai: string;
  expected: { outcome: 'unsubscribe' | 'soft' | 'ignore'; fault: string; category: string };
  note?: string;
}

interface CorpusResult {
  entry: CorpusEntry;
  outcome: CorpusEntry['expected']['outcome'];
  category: string;
  rule: string;
}

const CORPUS_FILE = join(import.meta.dirname, '../../../fixtures/bounce-corpus/replies.jsonl');
const OUTCOME = { unsubscribe: 'unsubscribe', 'soft-bounce': 'soft', ignore: 'ignore' } as const;

function readCorpus(): CorpusEntry[] {
  return readFileSync(CORPUS_FILE, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as CorpusEntry);
}

function decideCorpus(entries = readCorpus()): CorpusResult[] {
  const classify = createClassifier({ builtin: BUILTIN_RULES });
  const policy = parseConfig({}, {}, {}).policy;
  return entries.map((entry) => {
    const c = classify({ dsnStatus: entry.status, dsnDiag: entry.reply });
    const d = decideBounce(c, policy);
    return { entry, outcome: OUTCOME[d.intent], category: c.category, rule: c.ruleId };
  });
}

/** A recipient-temporary or sender-side reply decided as unsubscribe: a working mailbox lost. */
function unsubscribesWorkingMailbox(r: CorpusResult): boolean {
  return r.outcome === 'unsubscribe' && r.entry.expected.outcome !== 'unsubscribe';
}

export type { CorpusEntry, CorpusResult };
export { decideCorpus, readCorpus, unsubscribesWorkingMailbox };
