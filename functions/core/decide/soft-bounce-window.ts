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
