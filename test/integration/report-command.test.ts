/**
 * `process` then `report` end to end on a generated accounting file with known counts
 * (test/support/traffic-scenario.ts): the real bin in a child process, SQLite state in a temp dir.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trafficScenario } from '#test/support/traffic-scenario.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pmta-bounce.js');

function cli(args: string[]) {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, PMTA_BOUNCE_CONFIG: '' },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('report', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pmta-report-'));
  const state = join(dir, 'state.db');
  const input = join(dir, 'acct.csv');
  const scenario = trafficScenario();
  let processRun: ReturnType<typeof cli>;

  beforeAll(() => {
    writeFileSync(input, scenario.csv);
    processRun = cli(['process', input, '--state', state, '--json']);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('process warns about exactly the expected guardrails', () => {
    expect(processRun.code).toBe(0);
    const lines = processRun.stderr.split('\n').filter((l) => l.includes('guardrail'));
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain('warn: complaint rate 0.20 % for news.example.com on 2026-11-20');
    expect(lines[1]).toContain('critical: complaint rate 0.50 % for shop.example.com');
    expect(lines[2]).toContain(
      'critical: block spike at gmail through vmta-burst at 2026-11-20T10:00:00.000Z',
    );
    const summary = JSON.parse(processRun.stdout);
    expect(summary.guardrails).toHaveLength(3);
  });

  it('report --json gives exactly the generated counts and rates', () => {
    const run = cli(['report', '--state', state, '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout);
    for (const [domain, counts] of Object.entries(scenario.expected.sendingDomains)) {
      const group = report.sendingDomains.find((g: { name: string }) => g.name === domain);
      const blocks = Object.values(group.blocks as Record<string, number>).reduce((a, b) => a + b, 0);
      expect({ ...counts, blocks }).toEqual({
        deliveries: group.deliveries,
        hardBounces: group.hardBounces,
        softBounces: group.softBounces,
        complaints: group.complaints,
        blocks,
      });
      expect({ blocks: counts.blocks }).toEqual({ blocks });
      const rate = scenario.expected.complaintRates[domain as keyof typeof scenario.expected.complaintRates];
      if (rate === null) expect(group.complaintRate).toBeNull();
      else expect(group.complaintRate).toBeCloseTo(rate, 10);
    }
    expect(
      report.sendingDomains.find((g: { name: string }) => g.name === 'alerts.example.org').guardrail,
    ).toBe('no-deliveries');
    expect(report.guardrails).toMatchObject(scenario.expected.guardrails);
    expect(report.guardrails).toHaveLength(scenario.expected.guardrails.length);
  });

  it('a window that excludes the day shows nothing', () => {
    const run = cli(['report', '--state', state, '--json', '--since', '2026-11-21']);
    const report = JSON.parse(run.stdout);
    expect(report.totals.deliveries).toBe(0);
    expect(report.guardrails).toEqual([]);
  });

  it('prints a compact table without --json', () => {
    const run = cli(['report', '--state', state]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/shop\.example\.com\s+1000\s+10\s+4\s+0\s+5\s+0\.50%\s+critical/);
    expect(run.stdout).toContain('guardrail critical: block spike at gmail through vmta-burst');
  });

  it('names a bad --since', () => {
    const run = cli(['report', '--state', state, '--since', 'yesterday-ish']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--since: not a date');
  });

  it('a dry run judges what it saw and writes nothing', () => {
    const dry = join(dir, 'dry.db');
    const run = cli(['process', input, '--state', dry, '--dry-run', '--json']);
    expect(JSON.parse(run.stdout).guardrails).toHaveLength(3);
    expect(cli(['report', '--state', dry]).code).toBe(2);
  });

  it('writes a self-contained HTML file', () => {
    const html = join(dir, 'report.html');
    const run = cli(['report', '--state', state, '--html', html]);
    expect(run.code).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).not.toMatch(/<(script|link)[^>]+(src|href)="(https?:)?\/\//);
    expect(page).toContain('uPlot');
  });
});
