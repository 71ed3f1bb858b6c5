/**
 * The fault matrix's scenarios: the faults it injects (one at a time, or in pairs in the full run)
 * and the result each scenario reports. Scenario names are the fault names; keep them stable
 * (docs/testing.md shows the table by name).
 */

const Fault = {
  shipperKill: 'shipper-kill',
  sqsDown: 'sqs-down',
  dynamodbDown: 'dynamodb-down',
  provider5xx: 'provider-5xx',
  provider429: 'provider-429',
  providerTimeout: 'provider-timeout',
  providerAuth: 'provider-auth',
  /** A misconfigured URL for a while (a redirect, a refused request), then fixed: nothing is dropped. */
  providerRefusing: 'provider-3xx-4xx',
  providerDead: 'provider-dead',
  /** Providers ask for a Retry-After longer than act's time left: act must not sleep past it. */
  providerSlow: 'provider-slow',
  handlerCrash: 'handler-crash',
  duplicateReorder: 'duplicate-reorder',
  duplicateConcurrent: 'duplicate-concurrent',
  headerChange: 'header-change',
} as const;
type Fault = (typeof Fault)[keyof typeof Fault];

interface Scenario {
  name: string;
  faults: readonly Fault[];
}

const SINGLE_FAULTS: readonly Fault[] = Object.values(Fault);

/**
 * Faults that still find a bug (reported, not fixed here): the scenario runs and prints, and the
 * test expects it to fail until the fix lands. None now: duplicate-concurrent found that the act
 * claim token was the SQS message id, which a message delivered twice at once keeps (fixed: one
 * token per receipt handle).
 */
const KNOWN_BUGS: ReadonlySet<Fault> = new Set<Fault>([]);
const isKnownBug = (s: Scenario) => s.faults.some((f) => KNOWN_BUGS.has(f));

/** Reduced (CI): no fault, then each fault alone. Full: also every pair. */
function scenarios(mode: 'reduced' | 'full'): Scenario[] {
  const out: Scenario[] = [{ name: 'none', faults: [] }];
  for (const f of SINGLE_FAULTS) out.push({ name: f, faults: [f] });
  if (mode === 'full') {
    for (let i = 0; i < SINGLE_FAULTS.length; i += 1)
      for (let j = i + 1; j < SINGLE_FAULTS.length; j += 1) {
        const pair = [SINGLE_FAULTS[i]!, SINGLE_FAULTS[j]!];
        out.push({ name: pair.join(' + '), faults: pair });
      }
  }
  return out;
}

interface Outcomes {
  done: number;
  already: number;
  soft: number;
  ignored: number;
  rejected: number;
}

interface ScenarioResult {
  name: string;
  recordsIn: number;
  outcomes: Outcomes;
  /** Messages found in a DLQ once quiet (then redriven and finished). */
  parked: number;
  /** Records written to a killed shipper that it had not read (written again, as PowerMTA would). */
  refed: number;
  lost: number;
  duplicated: number;
  /** Suppression state or a fake disagrees with what the records ask for. */
  mismatched: number;
  /** Soft-bounce pairs of which neither record reached the threshold (should be 0). */
  known: number;
  seconds: number;
  details: string[];
  /** One line per lost record, duplicated effect or disagreement. */
  problems: string[];
}

/** Whether a scenario injects a fault. */
const hasFault = (scenario: Scenario, fault: Fault): boolean => scenario.faults.includes(fault);

export type { Outcomes, Scenario, ScenarioResult };
export { Fault, hasFault, isKnownBug, scenarios };
