/**
 * `npm run bench:classify`: the classifier alone. Prints ns per record for replies like the
 * process bench's (with PowerMTA's bounceCat and without), as a ratio to a baseline that only
 * trusts bounceCat (what the classifier did before the rule table), and the time for
 * pathological replies of 1 KiB to 1 MiB: flat, because only the first MAX_REPLY_CHARS are read
 * and every pattern is checked for backtracking shapes (docs/classification.md "Linear time").
 */
import { BUILTIN_RULES } from '../functions/core/classify/builtin-rules.ts';
import { KNOWN_CATEGORIES } from '../functions/core/classify/categories.ts';
import { type ClassifyInput, createClassifier } from '../functions/core/classify/classify.ts';
import { GENERATED_BOUNCES } from '../test/support/builders.ts';

const classify = createClassifier({ builtin: BUILTIN_RULES });
const known = new Set<string>(KNOWN_CATEGORIES);
const trustBounceCat = (i: ClassifyInput) => ({
  category: i.bounceCat && known.has(i.bounceCat) ? i.bounceCat : 'other',
});

const REPLIES = GENERATED_BOUNCES;

function inputs(withCategory: boolean): ClassifyInput[] {
  return Array.from({ length: 6000 }, (_, n) => {
    const [bounceCat, dsnStatus, diag] = REPLIES[n % REPLIES.length]!;
    return {
      bounceCat: withCategory ? bounceCat : undefined,
      dsnStatus,
      dsnDiag: diag.replace('{rcpt}', `user${n}@example.com`),
      recipient: `user${n}@example.com`,
    };
  });
}

/** ns per call, best of 5 rounds (bounded: 5 × rounds × inputs calls). */
function measure(f: (i: ClassifyInput) => unknown, list: readonly ClassifyInput[], rounds: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 5; r++) {
    const t = performance.now();
    for (let k = 0; k < rounds; k++) for (const i of list) f(i);
    best = Math.min(best, ((performance.now() - t) * 1e6) / (rounds * list.length));
  }
  return best;
}

console.log('| replies | baseline (trust bounceCat) ns | rule table ns | ratio |');
console.log('|---|---:|---:|---:|');
for (const withCategory of [true, false]) {
  const list = inputs(withCategory);
  const base = measure(trustBounceCat, list, 20);
  const rules = measure(classify, list, 20);
  const label = withCategory ? 'process bench mix, bounceCat set' : 'same, bounceCat empty (general rules)';
  console.log(`| ${label} | ${base.toFixed(0)} | ${rules.toFixed(0)} | ${(rules / base).toFixed(1)} |`);
}

const PATHOLOGICAL: Record<string, (size: number) => string> = {
  'digits and dots': (size) => '5.'.repeat(size / 2),
  'every keyword': (size) =>
    'user unknown blocked spam quota temporar mailbox '.repeat(Math.ceil(size / 49)).slice(0, size),
  'one letter': (size) => 'a'.repeat(size),
  'near-miss addresses': (size) => '<a@b.c>... '.repeat(Math.ceil(size / 11)).slice(0, size),
};
console.log('\n| pathological reply | 1 KiB µs | 64 KiB µs | 1 MiB µs | 1 MiB / 64 KiB |');
console.log('|---|---:|---:|---:|---:|');
for (const [name, make] of Object.entries(PATHOLOGICAL)) {
  const times = [1024, 65_536, 1_048_576].map((size) => {
    const list = [{ dsnStatus: '', dsnDiag: make(size) }];
    return measure(classify, list, 50) / 1000;
  });
  console.log(
    `| ${name} | ${times.map((t) => t.toFixed(1)).join(' | ')} | ${(times[2]! / times[1]!).toFixed(2)} |`,
  );
}
