/**
 * The rules a command classifies with, by id: the built-in table and the operator's
 * `classification.rules`, plus candidate rules read from a file for `backtest`
 * (docs/classification.md "Trying a rule").
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { type Classifier, createClassifier } from '#core/classify/classify.ts';
import type { RuleSpec } from '#core/classify/rule-schema.ts';
import { parseConfig } from '#core/config-schema.ts';
import { ConfigError } from '#core/errors.ts';

interface RuleInfo {
  origin: 'operator' | 'built-in' | 'candidate' | 'PowerMTA';
  stage: 'override' | 'general' | 'bounceCat' | 'default';
  note: string | undefined;
}

const PMTA_RULE: RuleInfo = {
  origin: 'PowerMTA',
  stage: 'bounceCat',
  note: "PowerMTA's own bounceCat, trusted",
};
const DEFAULT_RULE: RuleInfo = {
  origin: 'built-in',
  stage: 'default',
  note: 'no rule matched: other, counted as soft',
};

function catalogue(
  operator: readonly RuleSpec[],
  candidate: readonly RuleSpec[] = [],
): Map<string, RuleInfo> {
  const out = new Map<string, RuleInfo>([
    ['pmta', PMTA_RULE],
    ['default', DEFAULT_RULE],
  ]);
  for (const r of BUILTIN_RULES.overrides)
    out.set(r.id, { origin: 'built-in', stage: 'override', note: r.note });
  for (const r of BUILTIN_RULES.general)
    out.set(r.id, { origin: 'built-in', stage: 'general', note: r.note });
  for (const r of operator) out.set(r.id, { origin: 'operator', stage: r.stage ?? 'override', note: r.note });
  for (const r of candidate)
    out.set(r.id, { origin: 'candidate', stage: r.stage ?? 'override', note: r.note });
  return out;
}

function classifierWith(rules: readonly RuleSpec[]): Classifier {
  return createClassifier({ builtin: BUILTIN_RULES, operator: rules });
}

/**
 * A candidate file: `rules: [...]`, `classification: { rules: [...] }` or a bare list, in YAML or
 * JSON; checked like the configuration, errors naming the file and the key path.
 */
function loadCandidateRules(path: string, env: Record<string, string | undefined>): RuleSpec[] {
  let document: unknown;
  try {
    document = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(path, `cannot read candidate rules: ${(error as Error).message.split('\n')[0]}`);
  }
  const doc = document as { rules?: unknown; classification?: { rules?: unknown } } | unknown[] | null;
  const rules = Array.isArray(doc) ? doc : (doc?.classification?.rules ?? doc?.rules);
  if (!Array.isArray(rules)) throw new ConfigError(path, 'expected a list of rules (or `rules:`)');
  try {
    return parseConfig({ classification: { rules } }, env, {}).classification.rules;
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(path, error.message);
    throw error;
  }
}

export type { RuleInfo };
export { catalogue, classifierWith, loadCandidateRules };
