/**
 * The guardrails judge whole days (docs/guardrails.md): a run whose days had no counts before it
 * judges its own counts, one that adds to counts stored by an earlier run judges the stored totals.
 * The scenario's deliveries and its complaints come in two runs: only their sum trips the
 * complaint-rate guardrails, and the result must equal one run over the whole file.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { trafficScenario } from '#test/support/traffic-scenario.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pmta-bounce.js');
const dir = mkdtempSync(join(tmpdir(), 'pmta-guardrails-runs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function guardrails(file: string, state: string): Promise<unknown[]> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [BIN, 'process', file, '--state', state, '--json'],
    { cwd: ROOT, timeout: 60_000, env: { ...process.env, PMTA_BOUNCE_CONFIG: '' } },
  );
  return (JSON.parse(stdout) as { guardrails: unknown[] }).guardrails;
}

describe('guardrails across runs', () => {
  it('a second run of the same day judges the stored totals, as one run over both files would', async () => {
    const scenario = trafficScenario();
    const [bounces, complaints] = scenario.sections.map((s, i) => {
      const path = join(dir, `part${i}.csv`);
      writeFileSync(path, `${[s.header, ...s.lines].join('\n')}\n`);
      return path;
    });
    const whole = join(dir, 'whole.csv');
    writeFileSync(whole, scenario.csv);

    const once = await guardrails(whole, join(dir, 'once.db'));
    expect(once).toMatchObject(scenario.expected.guardrails);

    const split = join(dir, 'split.db');
    const first = await guardrails(bounces!, split);
    // The deliveries alone: the block spike, no complaint rate yet.
    expect(first).toMatchObject([scenario.expected.guardrails[2]]);
    // The complaints alone have no deliveries: only the stored totals make them trip.
    expect(await guardrails(complaints!, split)).toEqual(once);
  });
});
