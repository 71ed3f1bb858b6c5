/**
 * One CloudWatch dashboard, named after the stack, with the metrics the functions emit
 * (functions/lambda/metric-names.ts) and the SQS metrics of every queue.
 */
import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DIMENSIONS } from '#lambda/metric-names.ts';
import { bounceMetric, bounceMetricByDimension, type MetricKey } from '../bounce-metrics.ts';

interface OperationsDashboardProps {
  dashboardName: string;
  /** Queues fed by the shipper and the functions, by a readable name. */
  workQueues: Record<string, IQueue>;
  deadLetterQueues: Record<string, IQueue>;
  providerIds: readonly string[];
  alarms: readonly IAlarm[];
}

const PERIOD = Duration.minutes(5);
const WIDTH = 12;
const HEIGHT = 6;

class OperationsDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: OperationsDashboardProps) {
    super(scope, id);
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.hours(24),
    });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          `# ${props.dashboardName}\nPowerMTA bounces, complaints and unsubscribes: records in → decisions → ` +
          'provider calls. Dead-letter queues must stay at 0 (docs/deploy-aws.md, "Reading the dashboard").',
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24 }),
    );
    this.#pipelineRows(props.providerIds);
    this.#queueRows(props);
  }

  /** Records in → decisions → provider outcomes and latency. */
  #pipelineRows(providers: readonly string[]): void {
    const perProvider = (key: MetricKey, statistic: string, extra: Record<string, string> = {}) =>
      providers.map((p) => metric(key, statistic, { [DIMENSIONS.provider]: p, ...extra }, p));
    this.dashboard.addWidgets(
      graph('Records in by type', [byDimension('recordsIn', DIMENSIONS.recordType, 'RecordsIn')]),
      graph('Bounces by category', [byDimension('bounces', DIMENSIONS.category, 'Bounces')]),
    );
    this.dashboard.addWidgets(
      graph('Decisions', [byDimension('decisions', DIMENSIONS.action, 'Decisions')]),
      graph(
        'Rejects and inbound unsubscribes',
        [metric('rejects', 'Sum', {}, 'Rejects (malformed records)')],
        [
          byDimension('inboundUnsubscribes', DIMENSIONS.verdict, 'InboundUnsubscribes'),
          byDimension('unsubscribeRateLimited', DIMENSIONS.scope, 'UnsubscribeRateLimited'),
          byDimension('oneClickRequests', DIMENSIONS.verdict, 'OneClickRequests'),
          metric('pendingUnsubscribeAge', 'Maximum', {}, 'Oldest owed unsubscribe (ms)'),
        ],
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Unsubscribes per provider',
        perProvider('providerOutcomes', 'Sum', { [DIMENSIONS.outcome]: 'done' }),
      ),
      graph('Errors per provider', [
        ...perProvider('providerOutcomes', 'Sum', { [DIMENSIONS.outcome]: 'failed' }),
        ...providers.map((p) => metric('actionsFailed', 'Sum', { [DIMENSIONS.provider]: p }, `${p} gave up`)),
        ...providers.map((p) =>
          metric('providerPermanentErrors', 'Sum', { [DIMENSIONS.provider]: p }, `${p} refused (3xx/4xx)`),
        ),
        metric('actionsFailed', 'Sum', { [DIMENSIONS.provider]: 'none' }, 'malformed actions'),
      ]),
    );
    this.dashboard.addWidgets(
      graph(
        'Provider latency p50 / p99 (ms)',
        perProvider('providerLatency', 'p50').map((m) => m.with({ label: `${m.label} p50` })),
        perProvider('providerLatency', 'p99').map((m) => m.with({ label: `${m.label} p99` })),
      ),
      graph('End-to-end latency, PowerMTA to provider (ms)', [
        metric('endToEndLatency', 'p50', {}, 'p50'),
        metric('endToEndLatency', 'p99', {}, 'p99'),
      ]),
    );
  }

  /** Backlogs, dead-letter queues and provider calls. */
  #queueRows(props: OperationsDashboardProps): void {
    const work = Object.entries(props.workQueues);
    this.dashboard.addWidgets(
      graph(
        'Queue depth',
        work.map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: name }),
        ),
      ),
      graph(
        'Age of oldest message (s)',
        work.map(([name, q]) =>
          q.metricApproximateAgeOfOldestMessage({ period: PERIOD, statistic: 'Maximum', label: name }),
        ),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        'Dead-letter queue depth',
        Object.entries(props.deadLetterQueues).map(([name, q]) =>
          q.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: 'Maximum', label: name }),
        ),
      ),
      graph(
        'Provider calls',
        props.providerIds.map((p) => metric('providerCalls', 'Sum', { [DIMENSIONS.provider]: p }, p)),
      ),
    );
  }
}

function metric(key: MetricKey, statistic: string, dimensions: Record<string, string> = {}, label?: string) {
  return bounceMetric(key, { statistic, period: PERIOD, dimensions, ...(label ? { label } : {}) });
}

function byDimension(key: MetricKey, dimension: string, label: string): IMetric {
  return bounceMetricByDimension(key, dimension, PERIOD, label);
}

function graph(title: string, left: IMetric[], right: IMetric[] = []): GraphWidget {
  return new GraphWidget({ title, left, right, width: WIDTH, height: HEIGHT });
}

export type { OperationsDashboardProps };
export { OperationsDashboard };
