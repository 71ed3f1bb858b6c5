/**
 * The functions' CloudWatch metrics as the dashboard and alarms must name them. Powertools Metrics
 * adds a `service` dimension (the function's serviceName) to every metric it emits, so a metric is
 * identified by its dimensions from functions/lambda/metric-names.ts plus `service`.
 */
import type { Duration } from 'aws-cdk-lib';
import { type IMetric, MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { METRIC_NAMESPACE, METRICS } from '#lambda/metric-names.ts';

/** Dimension Powertools adds to every metric. */
const SERVICE_DIMENSION = 'service';

/** serviceName of each function's Powertools Metrics (functions/lambda/wiring.ts). */
const SERVICE_NAMES = {
  ingest: 'pmta-bounce-ingest',
  act: 'pmta-bounce-act',
  unsub: 'pmta-bounce-unsub',
  notify: 'pmta-bounce-notify',
  unsubHttp: 'pmta-bounce-unsub-http',
} as const;

type MetricKey = keyof typeof METRICS;

/** Which function emits each metric. */
const METRIC_SOURCES: Record<MetricKey, keyof typeof SERVICE_NAMES> = {
  recordsIn: 'ingest',
  bounces: 'ingest',
  decisions: 'ingest',
  rejects: 'ingest',
  providerCalls: 'act',
  providerOutcomes: 'act',
  providerLatency: 'act',
  endToEndLatency: 'act',
  actionsFailed: 'act',
  providerPermanentErrors: 'act',
  inboundUnsubscribes: 'unsub',
  unsubscribeRateLimited: 'unsub',
  oneClickRequests: 'unsubHttp',
  pendingUnsubscribeAge: 'act',
  deliveries: 'ingest',
  complaints: 'ingest',
  attempts: 'ingest',
  blocks: 'ingest',
};

interface BounceMetricOptions {
  statistic: string;
  period: Duration;
  dimensions?: Record<string, string>;
  label?: string;
}

/** One metric with exactly the dimensions the functions emit it with. */
function bounceMetric(key: MetricKey, options: BounceMetricOptions): Metric {
  return new Metric({
    namespace: METRIC_NAMESPACE,
    metricName: METRICS[key],
    dimensionsMap: { [SERVICE_DIMENSION]: SERVICE_NAMES[METRIC_SOURCES[key]], ...options.dimensions },
    statistic: options.statistic,
    period: options.period,
    ...(options.label ? { label: options.label } : {}),
  });
}

/** One line per value of `dimension` (record types, categories...), whatever values occur. */
function bounceMetricByDimension(
  key: MetricKey,
  dimension: string,
  period: Duration,
  label: string,
): IMetric {
  const service = SERVICE_NAMES[METRIC_SOURCES[key]];
  return new MathExpression({
    expression:
      `SEARCH('{${METRIC_NAMESPACE},${SERVICE_DIMENSION},${dimension}} ` +
      `MetricName="${METRICS[key]}" ${SERVICE_DIMENSION}="${service}"', 'Sum', ${period.toSeconds()})`,
    usingMetrics: {},
    label,
    period,
  });
}

export type { BounceMetricOptions, MetricKey };
export { bounceMetric, bounceMetricByDimension, METRIC_SOURCES, SERVICE_DIMENSION, SERVICE_NAMES };
