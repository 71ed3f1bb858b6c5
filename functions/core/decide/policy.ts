/**
 * The decision for one event under the configured policy (interfaces.md "policy"). Pure; soft
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
  /** Bounces: the classification rule (`pmta` when bounceCat was trusted) and hard or soft. */
  rule?: string;
  bounceType?: 'hard' | 'soft';
}

/** ARF feedback types that are complaints about our mail (RFC 5965); others are not. */
const COMPLAINT_TYPES = new Set(['abuse', 'fraud', 'virus', 'other']);
const NOT_COMPLAINTS = new Set(['auth-failure', 'not-spam']);
const SENDER_SIDE = new Set<string>(SENDER_SIDE_CATEGORIES);

function decide(
  event: MailEvent,
  classification: Classification | undefined,
  policy: PolicyConfig,
): Decision {
  // Everywhere even when only provider ids are known: the act side resolves them to the address.
  const everywhere = (reason: string, category?: string): Decision => ({
    intent: Intent.unsubscribe,
    scope: 'everywhere',
    category,
    reason,
  });
  const ignore = (reason: string, category?: string): Decision => ({
    intent: Intent.ignore,
    scope: 'everywhere',
    category,
    reason,
  });

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
    case 'bounce': {
      const category = classification?.category ?? 'other';
      const source =
        classification?.ruleId === 'pmta' ? 'bounceCat' : `rule=${classification?.ruleId ?? 'default'}`;
      const note = classification?.note ? ` (${classification.note})` : '';
      const label = `category=${category} ${source}${note}`;
      if (SENDER_SIDE.has(category))
        return ignore(`${label}: sender-side or operations category never unsubscribes`, category);
      const rule = classification?.ruleId ?? 'default';
      if (policy.hardCategories.includes(category))
        return { ...everywhere(`${label}: hard bounce`, category), rule, bounceType: 'hard' };
      if (policy.soft.categories.includes(category)) {
        const reason = `${label}: soft bounce`;
        return { intent: Intent.softBounce, scope: 'everywhere', category, reason, rule, bounceType: 'soft' };
      }
      return ignore(`${label}: not a hard or soft category in the policy`, category);
    }
    default:
      return ignore('not actionable');
  }
}

/** Whether this many soft bounces inside the window make an unsubscribe. */
function softLimitReached(countInWindow: number, policy: PolicyConfig): boolean {
  return countInWindow >= policy.soft.threshold;
}

export type { Decision };
export { decide, Intent, softLimitReached };
