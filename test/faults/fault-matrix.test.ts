/**
 * The fault matrix (test/faults/fault-matrix.ts). `npm test` runs the reduced matrix: no fault and
 * each fault alone, on a small input. `npm run test:faults` (FAULT_MATRIX=full) runs every single
 * fault and every pair on a larger input. Both print the table; any lost record, duplicated
 * provider effect or disagreement between the state and the fakes fails the scenario.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { SqsHandler } from '#sandbox/sqs-event-source.ts';
import { formatTable, isKnownBug, runScenario, type ScenarioResult, scenarios } from './fault-matrix.ts';

const FULL = process.env.FAULT_MATRIX === 'full';
const RECORDS = Number(process.env.FAULT_MATRIX_RECORDS ?? (FULL ? 200 : 40));
const SEED = Number(process.env.FAULT_MATRIX_SEED ?? 7);
const only = process.env.FAULT_MATRIX_ONLY;

/** The handler modules read their environment once, at import: a fresh import per scenario. */
async function loadHandlers(): Promise<{ ingest: SqsHandler; act: SqsHandler }> {
  vi.resetModules();
  const ingest = await import('#lambda/ingest/handler.ts');
  const act = await import('#lambda/act/handler.ts');
  return { ingest: ingest.handler as SqsHandler, act: act.handler as SqsHandler };
}

const results: ScenarioResult[] = [];
const list = scenarios(FULL ? 'full' : 'reduced').filter((s) => !only || s.name === only);

afterAll(() => {
  console.log(
    `\nfault matrix (${FULL ? 'full' : 'reduced'}, ${RECORDS} records per scenario, seed ${SEED})\n${formatTable(results)}\n`,
  );
});

const cases = list.map((s, i) => ({ ...s, index: i }));

async function run(scenario: (typeof cases)[number]): Promise<void> {
  const result = await runScenario(scenario, { records: RECORDS, seed: SEED + scenario.index, loadHandlers });
  results.push(result);
  if (process.env.FAULT_MATRIX_DEBUG) console.log(scenario.name, result.details);
  expect(result.problems.slice(0, 20)).toEqual([]);
  expect({ lost: result.lost, duplicated: result.duplicated, mismatched: result.mismatched }).toEqual({
    lost: 0,
    duplicated: 0,
    mismatched: 0,
  });
}

describe(`fault matrix (${FULL ? 'full' : 'reduced'})`, () => {
  for (const scenario of cases) {
    // A known bug (fault-matrix.ts KNOWN_BUGS) is expected to fail until it is fixed.
    const test = isKnownBug(scenario) ? it.fails : it;
    test(
      `${scenario.name}: nothing lost, nothing twice, state agrees with the providers`,
      () => run(scenario),
      180_000,
    );
  }
});
