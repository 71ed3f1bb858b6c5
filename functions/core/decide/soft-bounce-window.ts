/**
 * How many soft bounces count for a threshold decision: the most found in any window of
 * `windowMs` that contains this bounce. For records decided in time order this is the same as
 * counting [at - window, at]; it also holds when a later bounce is decided first (a retried
 * message, a redelivery), where looking back only would never reach the threshold.
 */
function softBouncesInWindow(timestamps: Iterable<number>, at: number, windowMs: number): number {
  const near: number[] = [];
  let hasSelf = false;
  for (const t of timestamps) {
    if (t < at - windowMs || t > at + windowMs) continue;
    if (t === at) hasSelf = true;
    near.push(t);
  }
  if (!hasSelf) near.push(at);
  near.sort((a, b) => a - b);
  let best = 0;
  let end = 0;
  // Windows that start at a bounce no later than `at` (and so still contain it) are enough:
  // the densest window containing `at` can always be slid to start at one of them.
  for (let start = 0; start < near.length && near[start]! <= at; start++) {
    if (end < start) end = start;
    while (end + 1 < near.length && near[end + 1]! - near[start]! <= windowMs) end++;
    best = Math.max(best, end - start + 1);
  }
  return best;
}

export { softBouncesInWindow };

const DAY_MS = 86_400_000;

/** How soft bounces are counted (policy.soft, docs/classification.md "Soft bounces"). */
interface SoftCounting {
  windowMs: number;
  /** Bounces on one UTC day count once: one outage is one count. */
  onePerUtcDay?: boolean | undefined;
}

/**
 * The count for a soft bounce at `at`: the bounces after the address's last delivery (`resetAt`),
 * optionally one per UTC day, in the densest window containing `at`. A bounce at or before the
 * last delivery counts nothing: the mailbox took mail after it.
 */
function countSoftBounces(
  timestamps: Iterable<number>,
  at: number,
  counting: SoftCounting | number,
  resetAt?: number,
): number {
  const { windowMs, onePerUtcDay } = typeof counting === 'number' ? { windowMs: counting } : counting;
  if (resetAt !== undefined && at <= resetAt) return 0;
  const kept: number[] = [];
  const days = onePerUtcDay ? new Set<number>() : undefined;
  for (const t of timestamps) {
    if (resetAt !== undefined && t <= resetAt) continue;
    const v = days ? t - (t % DAY_MS) : t;
    if (days) {
      if (days.has(v)) continue;
      days.add(v);
    }
    kept.push(v);
  }
  return softBouncesInWindow(kept, days ? at - (at % DAY_MS) : at, windowMs);
}

/** The later of a stored reset and one from the same batch. */
function laterReset(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

export type { SoftCounting };
export { countSoftBounces, laterReset };
