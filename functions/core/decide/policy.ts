/**
 * The decision for one event under the configured policy (docs/interfaces.md §3, `policy`). Pure; soft
 * bounce counts come in from the store, never fetched here. Every decision says why.
 */
import type { Classification } from '../classify/classify.ts';
import type { PolicyConfig } from '../config-schema.ts';
import { SENDER_SIDE_CATEGORIES } from '../config-schema.ts';
import type { MailEvent } from '../mail-event.ts';

const Intent = {
  unsubscribe: 'unsubscribe',
  softBounce: 'soft-bounce',
  ignore: 'ignore',
} as const;
type Intent = (typeof Intent)[keyof typeof Intent];

interface Decision {
  intent: Intent;
  /**
   * everywhere: the person at every routed provider (by address, or by ids resolved to it at act
   * time); list: one subscription by provider ids.
   */
  scope: 'everywhere' | 'list';
  category: string | undefined;
  reason: string;
  /** Bounces: the classification rule (a rule id, `pmta` or `default`) and hard or soft. */
  rule?: string | undefined;
  bounceType?: 'hard' | 'soft';
}

/** ARF feedback types that are complaints about our mail (RFC 5965); others are not. */
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus', 'other']);
const NOT_COMPLAINTS = new Set(['auth-failure', 'not-spam']);
const SENDER_SIDE = new Set<string>(SENDER_SIDE_CATEGORIES);

// Decisions are built by plain functions, not per-call closures: decide() runs once per record.
// Everywhere even when only provider ids are known: the act side resolves them to the address.
function everywhere(reason: string): Decision {
  return { intent: Intent.unsubscribe, scope: 'everywhere', category: undefined, reason };
}

function ignore(reason: string): Decision {
  return { intent: Intent.ignore, scope: 'everywhere', category: undefined, reason };
}

function decide(
  event: MailEvent,
  classification: Classification | undefined,
  policy: PolicyConfig,
): Decision {
  switch (event.kind) {
    case 'manual':
      return everywhere('listed in a plain address file: unsubscribe everywhere');
    case 'unsubscribe': {
      const how = event.recordType === 'f' ? 'feedback report of type opt-out' : 'List-Unsubscribe request';
      if (policy.unsubscribeScope === 'list' && event.refs.length > 0) {
        return {
          intent: Intent.unsubscribe,
          scope: 'list',
          category: undefined,
          reason: `${how}: unsubscribe from its list`,
        };
      }
      return everywhere(`${how}: unsubscribe everywhere`);
    }
    case 'complaint': {
      const type = event.feedbackType;
      if (type && NOT_COMPLAINTS.has(type)) return ignore(`feedback type ${type} is not a complaint`);
      if (type && !COMPLAINT_TYPES.has(type)) return ignore(`unknown feedback type ${JSON.stringify(type)}`);
      if (policy.complaints === 'ignore') return ignore('complaints are set to ignore (policy.complaints)');
      const label = type ?? 'unspecified (treated as abuse)';
      const who = event.recipient ? '' : ' (recipient anonymised: by provider ids)';
      return everywhere(`complaint feedbackType=${label}: unsubscribe${who}`);
    }
    case 'bounce':
      return classification ? sharedBounceDecision(classification, policy) : decideBounce(undefined, policy);
    default:
      return ignore('not actionable');
  }
}

/**
 * A bounce under the policy: the verdict's fault decides whether it can count against the
 * recipient at all; the policy's category lists decide how (docs/classification.md "Decisions").
 */
function bounceDecision(
  intent: Intent,
  category: string,
  rule: string,
  label: string,
  reason: string,
): Decision {
  const bounceType =
    intent === Intent.unsubscribe ? 'hard' : intent === Intent.softBounce ? 'soft' : undefined;
  return { intent, scope: 'everywhere', category, reason: `${label}: ${reason}`, rule, bounceType };
}

function decideBounce(classification: Classification | undefined, policy: PolicyConfig): Decision {
  const category = classification?.category ?? 'other';
  const rule = classification?.ruleId ?? 'default';
  const source = rule === 'pmta' ? 'bounceCat' : `rule=${rule}`;
  const note = classification?.note ? ` (${classification.note})` : '';
  const label = `category=${category} ${source}${note}`;
  const fault = classification?.fault ?? (SENDER_SIDE.has(category) ? 'sender-side' : 'recipient-temporary');
  if (fault === 'sender-side' || fault === 'ignore' || SENDER_SIDE.has(category)) {
    if (classification?.expired && policy.soft.senderSideExpiry === 'count') {
      const why = 'expired after sender-side replies, counted (policy.soft.senderSideExpiry)';
      return bounceDecision(Intent.softBounce, category, rule, label, why);
    }
    const what = classification?.expired
      ? 'expired after a sender-side reply'
      : 'sender-side or operations category';
    return bounceDecision(Intent.ignore, category, rule, label, `${what}: never unsubscribes`);
  }
  const hard = policy.hardCategories.includes(category);
  const soft = policy.soft.categories.includes(category);
  if (fault === 'recipient-temporary') {
    // A temporary failure never unsubscribes at once, whatever list its category is in.
    return hard || soft
      ? bounceDecision(Intent.softBounce, category, rule, label, 'soft bounce')
      : bounceDecision(Intent.ignore, category, rule, label, 'not a hard or soft category in the policy');
  }
  if (hard) return bounceDecision(Intent.unsubscribe, category, rule, label, 'hard bounce');
  if (soft) return bounceDecision(Intent.softBounce, category, rule, label, 'soft bounce');
  return bounceDecision(Intent.ignore, category, rule, label, 'not a hard or soft category in the policy');
}

/**
 * The classifier hands out one verdict object per rule (core/classify/classify.ts), so a bounce's
 * decision depends only on that object and the policy: it is made once and shared, not rebuilt
 * with its reason text for every record (a third of a dry run's allocations, docs/benchmarks.md).
 * Shared decisions are frozen; callers copy to change one.
 */
const decisionsByPolicy = new WeakMap<PolicyConfig, WeakMap<Classification, Readonly<Decision>>>();

function sharedBounceDecision(classification: Classification, policy: PolicyConfig): Decision {
  let decisions = decisionsByPolicy.get(policy);
  if (!decisions) {
    decisions = new WeakMap();
    decisionsByPolicy.set(policy, decisions);
  }
  let decision = decisions.get(classification);
  if (!decision) {
    decision = Object.freeze(decideBounce(classification, policy));
    decisions.set(classification, decision);
  }
  return decision;
}

/** Whether this many soft bounces inside the window make an unsubscribe. */
function softLimitReached(countInWindow: number, policy: PolicyConfig): boolean {
  return countInWindow >= policy.soft.threshold;
}

export type { Decision };
export { decide, decideBounce, Intent, softLimitReached };
