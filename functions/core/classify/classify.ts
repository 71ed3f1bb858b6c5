/**
 * The verdict for one bounce, in the order of judgement of docs/classification.md: the
 * operator's override rules, the built-in overrides (replies PowerMTA is known to file wrongly),
 * then PowerMTA's own bounceCat when it is a real category, then the operator's and the built-in
 * general rules; otherwise `other`. Rules read the remote reply (dsnDiag) only, never PowerMTA's
 * status description. Regular expressions are compiled once; a record allocates nothing here
 * (verdicts are built once per rule) unless its reply is longer than the part that is read.
 */
import { type Fault, KNOWN_CATEGORIES, SENDER_SIDE_CATEGORIES } from './categories.ts';
import { effectiveStatus } from './enhanced-status.ts';
import { KeywordIndex } from './keyword-index.ts';
import { analysePattern } from './pattern-safety.ts';
import {
  compileStatuses,
  inDomains,
  providerMatches,
  recipientDomain,
  statusMatches,
} from './rule-matching.ts';
import type { ProviderScope, RuleSpec, RuleTable } from './rule-schema.ts';

/** Only this much of a reply is read: the meaning is at its start, and it bounds the work. */
const MAX_REPLY_CHARS = 2000;

interface Classification {
  category: string;
  fault: Fault;
  /** The rule that decided: a rule id, `pmta` (PowerMTA's bounceCat) or `default`. */
  ruleId: string;
  /** Said in the decision reason, e.g. that bounceCat was not a PowerMTA category. */
  note?: string;
  /** An expiry (bounceCat message-expired or x.4.7) decided by its last remote reply. */
  expired?: boolean;
}

/** The fields of one record the classifier reads (a MailEvent has them all). */
interface ClassifyInput {
  bounceCat?: string | undefined;
  dsnStatus?: string | undefined;
  dsnDiag?: string | undefined;
  recipient?: string | undefined;
  dsnMta?: string | undefined;
}

type Classifier = (input: ClassifyInput) => Classification;

interface ClassifierRules {
  builtin: RuleTable;
  /** The operator's `classification.rules`, consulted before the built-ins. */
  operator?: readonly RuleSpec[] | undefined;
}

interface CompiledRule {
  id: string;
  statuses: Int32Array | undefined;
  regex: RegExp | undefined;
  /** Keyword ids of which the reply must contain one; undefined: always tried. */
  keywords: number[] | undefined;
  domains: string[] | undefined;
  provider: ProviderScope | undefined;
  verdict: Classification;
  expiredVerdict: Classification;
}

const SENDER_SIDE = new Set<string>(SENDER_SIDE_CATEGORIES);
const HARD_BY_NATURE = new Set(['bad-mailbox', 'bad-domain', 'inactive-mailbox', 'routing-errors']);
const KNOWN = new Set<string>(KNOWN_CATEGORIES);

function faultOfCategory(category: string): Fault {
  if (SENDER_SIDE.has(category)) return 'sender-side';
  return HARD_BY_NATURE.has(category) ? 'recipient-permanent' : 'recipient-temporary';
}

function compileRule(
  spec: RuleSpec,
  providers: Readonly<Record<string, ProviderScope>>,
  keywordIds: Map<string, number>,
): CompiledRule {
  let keywords: number[] | undefined;
  if (spec.reply !== undefined) {
    const words = analysePattern(spec.reply).keywords;
    keywords = words?.map((w) => {
      if (!keywordIds.has(w)) keywordIds.set(w, keywordIds.size);
      return keywordIds.get(w)!;
    });
  }
  const provider = spec.provider === undefined ? undefined : providers[spec.provider];
  if (spec.provider !== undefined && !provider) {
    throw new Error(`rule ${spec.id}: unknown provider ${JSON.stringify(spec.provider)}`);
  }
  const verdict: Classification = Object.freeze({
    category: spec.category,
    fault: spec.fault,
    ruleId: spec.id,
  });
  return {
    id: spec.id,
    statuses: compileStatuses(spec.status),
    regex: spec.reply === undefined ? undefined : new RegExp(spec.reply, 'i'),
    keywords,
    domains: spec.domains,
    provider,
    verdict,
    expiredVerdict: Object.freeze({ ...verdict, expired: true }),
  };
}

function anyKeyword(index: KeywordIndex, ids: readonly number[]): boolean {
  for (let i = 0; i < ids.length; i++) if (index.has(ids[i]!)) return true;
  return false;
}

function isExpiry(bounceCat: string | undefined, status: number): boolean {
  return bounceCat === 'message-expired' || status % 1_000_000 === 4007;
}

function createClassifier(rules: ClassifierRules): Classifier {
  const keywordIds = new Map<string, number>();
  const seenIds = new Set<string>();
  const compile = (list: readonly RuleSpec[]): CompiledRule[] =>
    list.map((spec) => {
      if (seenIds.has(spec.id)) throw new Error(`duplicate classification rule id ${spec.id}`);
      seenIds.add(spec.id);
      return compileRule(spec, rules.builtin.providers, keywordIds);
    });
  const operator = rules.operator ?? [];
  const overrides = compile([...operator.filter((r) => r.stage !== 'general'), ...rules.builtin.overrides]);
  const general = compile([...operator.filter((r) => r.stage === 'general'), ...rules.builtin.general]);
  const index = new KeywordIndex([...keywordIds.keys()]);
  const bounceCatVerdicts = new Map<string, Classification>();
  for (const c of KNOWN)
    bounceCatVerdicts.set(c, Object.freeze({ category: c, fault: faultOfCategory(c), ruleId: 'pmta' }));
  const fallback: Classification = Object.freeze({
    category: 'other',
    fault: 'recipient-temporary',
    ruleId: 'default',
  });

  const firstMatch = (
    list: readonly CompiledRule[],
    status: number,
    input: ClassifyInput,
    reply: string,
    end: number,
  ) => {
    let capped: string | undefined;
    for (const rule of list) {
      if (rule.statuses && !statusMatches(rule.statuses, status)) continue;
      if (rule.keywords && !anyKeyword(index, rule.keywords)) continue;
      if (rule.domains && !inDomains(recipientDomain(input.recipient), rule.domains)) continue;
      capped ??= end < reply.length ? reply.slice(0, end) : reply;
      if (rule.provider && !providerMatches(rule.provider, input.recipient, input.dsnMta, capped)) continue;
      if (rule.regex && !rule.regex.test(capped)) continue;
      return rule;
    }
    return undefined;
  };

  const unknownCategory = (cat: string | undefined): cat is string =>
    Boolean(cat && cat !== 'other' && !KNOWN.has(cat));

  return (input) => {
    const reply = input.dsnDiag ?? '';
    const end = Math.min(reply.length, MAX_REPLY_CHARS);
    const status = effectiveStatus(input.dsnStatus, reply, end);
    index.scan(reply, end);
    const cat = input.bounceCat;
    let rule = firstMatch(overrides, status, input, reply, end);
    if (!rule) {
      const trusted = cat && cat !== 'other' ? bounceCatVerdicts.get(cat) : undefined;
      if (trusted) return trusted;
      rule = firstMatch(general, status, input, reply, end);
    }
    const verdict = rule ? (isExpiry(cat, status) ? rule.expiredVerdict : rule.verdict) : fallback;
    // Not a PowerMTA category (e.g. "hard" from a hand-made file): decided by the rules, and said.
    if (unknownCategory(cat))
      return { ...verdict, note: `bounceCat ${JSON.stringify(cat)} is not a PowerMTA category` };
    return verdict;
  };
}

export type { Classification, Classifier, ClassifierRules, ClassifyInput };
export { createClassifier, faultOfCategory, MAX_REPLY_CHARS };
