/**
 * Case counts of the fuzz properties. FC_RUNS is the number of generated cases per property
 * (weight 1); CI runs the default, `npm run test:fuzz` sets the full count (docs/testing.md).
 * Expensive properties (a whole CLI run per case) take a fraction of it.
 */
const FC_RUNS = Math.max(1, Number(process.env.FC_RUNS ?? 200) || 200);
/** The 1M-line memory test and other slow cases only run in the full run. */
const FULL_RUN = FC_RUNS >= 5000;

function runs(weight = 1): number {
  return Math.max(10, Math.round(FC_RUNS * weight));
}

/** A per-test timeout that grows with the case count (the default 30 s suits CI counts). */
function timeoutFor(cases: number, msPerCase = 2): number {
  return Math.max(30_000, cases * msPerCase + 10_000);
}

export { FC_RUNS, FULL_RUN, runs, timeoutFor };
