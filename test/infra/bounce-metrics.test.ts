/**
 * The dashboard and alarms name each metric with the `service` dimension Powertools adds. Pin the
 * service names to the functions' wiring so a rename there cannot silently blank the dashboard.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRICS } from '#lambda/metric-names.ts';
import { PROJECT_ROOT } from '../../infra/bounce-handler-stack.ts';
import { METRIC_SOURCES, SERVICE_NAMES } from '../../infra/bounce-metrics.ts';

const WIRING_FILES = ['functions/lambda/wiring.ts'];

describe('bounce metrics', () => {
  const wiring = WIRING_FILES.map((f) => readFileSync(join(PROJECT_ROOT, f), 'utf8')).join('\n');

  it.each(Object.entries(SERVICE_NAMES))('the %s function uses serviceName %s', (_fn, service) => {
    expect(wiring).toContain(`'${service}'`);
  });

  it('knows which function emits every metric of functions/lambda/metric-names.ts', () => {
    expect(Object.keys(METRIC_SOURCES).sort()).toEqual(Object.keys(METRICS).sort());
  });
});
