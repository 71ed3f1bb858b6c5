/**
 * The built-in rule table (rules.json, data only), validated once when first imported: a broken
 * table names the key path of its first problem (docs/classification.md "Adding a rule").
 */

import { type RuleTable, ruleTableSchema } from './rule-schema.ts';
import data from './rules.json' with { type: 'json' };

/** `overrides[3].reply` style, as the configuration errors name keys. */
function formatIssuePath(path: ReadonlyArray<PropertyKey>): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function parseRuleTable(document: unknown, source: string): RuleTable {
  const parsed = ruleTableSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${source}: ${formatIssuePath(issue.path)}: ${issue.message}`);
  }
  return parsed.data;
}

const BUILTIN_RULES: RuleTable = parseRuleTable(data, 'functions/core/classify/rules.json');

export { BUILTIN_RULES, parseRuleTable };
