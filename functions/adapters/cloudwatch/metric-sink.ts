/**
 * Metrics the functions record during one invocation, aggregated in memory and published at the
 * end as one EMF blob per dimension set (every metric and every value of that set together)
 * instead of one line per record. Names and dimensions are the shared constants of
 * functions/lambda/metric-names.ts.
 *
 * One Powertools Metrics object per dimension set, with the set as its default dimensions: a
 * single-metric object would publish (and drop its dimensions) at the first value, so later
 * values lost the `Provider` dimension, each became a line of its own, and every flush warned
 * "No application metrics to publish".
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Dimensions, MetricSink } from '#core/ports.ts';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

interface EmfMetricSinkOptions {
  namespace: string;
  /** Powertools adds it as the `service` dimension of every metric (infra/bounce-metrics.ts). */
  serviceName: string;
  /** POWERTOOLS_METRICS_DISABLED (sandbox, tests): record nothing, print nothing. */
  disabled?: boolean;
}

/**
 * The handlers' own Metrics object, for the cold-start metric only (logMetrics with
 * captureColdStartMetric): the application metrics go through the sink. logMetrics publishes it
 * after every invocation; an empty one is skipped instead of logging a warning.
 */
class ColdStartMetrics extends Metrics {
  override publishStoredMetrics(): this {
    if (this.hasStoredMetrics()) super.publishStoredMetrics();
    return this;
  }
}

/** Values of one dimension set, by metric name. */
interface DimensionSetValues {
  dimensions: Dimensions;
  counts: Map<string, number>;
  timings: Map<string, number[]>;
}

function dimensionKey(dimensions: Dimensions): string {
  return JSON.stringify(Object.entries(dimensions).sort(([a], [b]) => a.localeCompare(b)));
}

function createEmfMetricSink(options: EmfMetricSinkOptions): MetricSink {
  const sets = new Map<string, DimensionSetValues>();
  const setOf = (dimensions: Dimensions): DimensionSetValues => {
    const key = dimensionKey(dimensions);
    let set = sets.get(key);
    if (!set) {
      set = { dimensions, counts: new Map(), timings: new Map() };
      sets.set(key, set);
    }
    return set;
  };
  const publish = (set: DimensionSetValues): void => {
    const defaultDimensions = Object.fromEntries(Object.entries(set.dimensions).filter(([, v]) => v));
    // Default dimensions survive Powertools' own flush at 100 values of one metric.
    const metrics = new Metrics({
      namespace: options.namespace,
      serviceName: options.serviceName,
      defaultDimensions,
    });
    const add = (name: string, unit: Unit, value: number) => metrics.addMetric(name, unit, value);
    for (const [name, value] of set.counts) add(name, MetricUnit.Count, value);
    for (const [name, values] of set.timings) for (const v of values) add(name, MetricUnit.Milliseconds, v);
    if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
  };
  return {
    count(name, dimensions = {}, value = 1) {
      if (options.disabled) return;
      const counts = setOf(dimensions).counts;
      counts.set(name, (counts.get(name) ?? 0) + value);
    },
    timing(name, dimensions, ms) {
      if (options.disabled) return;
      const timings = setOf(dimensions).timings;
      const values = timings.get(name);
      if (values) values.push(ms);
      else timings.set(name, [ms]);
    },
    flush() {
      try {
        for (const set of sets.values()) publish(set);
      } finally {
        sets.clear();
      }
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

export type { EmfMetricSinkOptions };
export { ColdStartMetrics, createEmfMetricSink, createMemoryMetricSink };
