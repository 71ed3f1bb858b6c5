/**
 * The 48-hour promise, measured (docs/unsubscribe.md, "Within 48 hours"): of the actions still owed,
 * the unsubscribe requests (one-click, mailto: Action.requestedAt) and how old the oldest is. Local
 * `status` lists those over 24 h; the age of the oldest is the figure an alarm watches. Pure.
 */
import type { Action } from '../act/action.ts';

/** Half the 48 hours Gmail and Yahoo allow: time enough to fix a provider before the deadline. */
const OVERDUE_AFTER_MS = 24 * 3_600_000;

interface UnsubscribeAge {
  /** ms; 0 when no unsubscribe request is owed. */
  oldestAgeMs: number;
  overdue: Array<{ subject: string; requestedAt: number; ageMs: number; providers: string[] }>;
}

function unsubscribeAge(
  owed: readonly Action[],
  now: number,
  overdueAfterMs = OVERDUE_AFTER_MS,
): UnsubscribeAge {
  let oldestAgeMs = 0;
  const overdue: UnsubscribeAge['overdue'] = [];
  for (const action of owed) {
    if (action.kind !== 'unsubscribe' || action.requestedAt === undefined) continue;
    const ageMs = Math.max(0, now - action.requestedAt);
    oldestAgeMs = Math.max(oldestAgeMs, ageMs);
    if (ageMs > overdueAfterMs)
      overdue.push({
        subject: action.subject,
        requestedAt: action.requestedAt,
        ageMs,
        providers: action.providers,
      });
  }
  overdue.sort((a, b) => a.requestedAt - b.requestedAt);
  return { oldestAgeMs, overdue };
}

export type { UnsubscribeAge };
export { OVERDUE_AFTER_MS, unsubscribeAge };
