/**
 * Bounce category of one event: PowerMTA's bounceCat when it is a real, specific category;
 * otherwise the first matching fallback rule over dsnStatus/dsnDiag; otherwise `other`.
 */

import { KNOWN_CATEGORIES } from '../config-schema.ts';
import { type ClassificationRule, DEFAULT_RULES } from './classification-rules.ts';

interface Classification {
  category: string;
  /** `pmta` when bounceCat was trusted, else the rule id (or `default`). */
  ruleId: string;
  /** Set when bounceCat is not a PowerMTA category, to say so in the decision reason. */
  note?: string;
}

type Classifier = (event: {
  bounceCat?: string | undefined;
  dsnStatus?: string | undefined;
  dsnDiag?: string | undefined;
}) => Classification;

function createClassifier(rules: readonly ClassificationRule[] = DEFAULT_RULES): Classifier {
  const ids = new Set<string>();
  for (const r of rules) {
    if (ids.has(r.id)) throw new Error(`duplicate classification rule id ${r.id}`);
    if (!(KNOWN_CATEGORIES as readonly string[]).includes(r.category)) {
      throw new Error(`rule ${r.id}: unknown category ${r.category}`);
    }
    ids.add(r.id);
  }
  const known = new Set<string>(KNOWN_CATEGORIES);
  return (event) => {
    const cat = event.bounceCat;
    if (cat && cat !== 'other') {
      if (known.has(cat)) return { category: cat, ruleId: 'pmta' };
      // Not a PowerMTA category (e.g. "hard" from a hand-made file): named, never guessed at.
      return { category: cat, ruleId: 'pmta', note: 'not a PowerMTA category' };
    }
    // dsnStatus carries PowerMTA's text, e.g. "5.1.1 (bad destination mailbox address)".
    const subject = `${event.dsnStatus?.trim() ?? ''};${event.dsnDiag ?? ''}`;
    const hasStatus = /^[245]\.\d{1,3}\.\d{1,3}/.test(subject);
    for (const rule of rules) {
      if (rule.id.startsWith('status-') && !hasStatus) continue;
      if (rule.pattern.test(subject)) return { category: rule.category, ruleId: rule.id };
    }
    return { category: 'other', ruleId: 'default' };
  };
}

export type { Classification, Classifier };
export { createClassifier };
