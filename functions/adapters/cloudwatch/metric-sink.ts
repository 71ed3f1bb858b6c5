/**
 * Metrics the functions record during one invocation, aggregated in memory and published as a
 * handful of EMF blobs at the end (one per metric and dimension value) instead of one per record.
 * Names and dimensions are the shared constants of functions/lambda/metric-names.ts.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Dimensions, MetricSink } from '#core/ports.ts';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** EMF allows 100 values per metric in one blob. */
const VALUES_PER_BLOB = 100;

function dimensionKey(name: string, dimensions: Dimensions): string {
  return JSON.stringify([name, Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b))]);
}

function createEmfMetricSink(metrics: Metrics, options: { disabled?: boolean } = {}): MetricSink {
  const counts = new Map<string, { name: string; dimensions: Dimensions; value: number }>();
  const timings = new Map<string, { name: string; dimensions: Dimensions; values: number[] }>();
  const emit = (name: string, dimensions: Dimensions, unit: Unit, values: readonly number[]): void => {
    const single = metrics.singleMetric();
    for (const [k, v] of Object.entries(dimensions)) if (v) single.addDimension(k, v);
    for (const v of values) single.addMetric(name, unit, v);
    single.publishStoredMetrics();
  };
  return {
    count(name, dimensions = {}, value = 1) {
      const key = dimensionKey(name, dimensions);
      const entry = counts.get(key);
      if (entry) entry.value += value;
      else counts.set(key, { name, dimensions, value });
    },
    timing(name, dimensions, ms) {
      const key = dimensionKey(name, dimensions);
      const entry = timings.get(key);
      if (entry) entry.values.push(ms);
      else timings.set(key, { name, dimensions, values: [ms] });
    },
    flush() {
      // POWERTOOLS_METRICS_DISABLED (sandbox, tests): nothing to print, and no empty-metrics warning.
      if (options.disabled) {
        counts.clear();
        timings.clear();
        return;
      }
      for (const c of counts.values()) emit(c.name, c.dimensions, MetricUnit.Count, [c.value]);
      for (const t of timings.values()) {
        for (let i = 0; i < t.values.length; i += VALUES_PER_BLOB) {
          emit(t.name, t.dimensions, MetricUnit.Milliseconds, t.values.slice(i, i + VALUES_PER_BLOB));
        }
      }
      counts.clear();
      timings.clear();
    },
  };
}

/** Keeps everything recorded, for tests and the sandbox's summary. */
function createMemoryMetricSink(): MetricSink & {
  total(name: string, dimensions?: Dimensions): number;
  timings(name: string): number[];
} {
  const recorded: Array<{ name: string; dimensions: Dimensions; value: number; timing: boolean }> = [];
  const matches = (d: Dimensions, want: Dimensions | undefined): boolean =>
    !want || Object.entries(want).every(([k, v]) => d[k] === v);
  return {
    count(name, dimensions = {}, value = 1) {
      recorded.push({ name, dimensions, value, timing: false });
    },
    timing(name, dimensions, ms) {
      recorded.push({ name, dimensions, value: ms, timing: true });
    },
    flush() {},
    total(name, dimensions) {
      return recorded
        .filter((r) => !r.timing && r.name === name && matches(r.dimensions, dimensions))
        .reduce((sum, r) => sum + r.value, 0);
    },
    timings(name) {
      return recorded.filter((r) => r.timing && r.name === name).map((r) => r.value);
    },
  };
}

export { createEmfMetricSink, createMemoryMetricSink };
