/**
 * The deliverability guardrails in AWS (docs/guardrails.md): complaint-rate alarms per sending
 * domain and block-spike alarms per mailbox provider and VirtualMTA, on their own SNS topic so
 * whoever watches deliverability can subscribe without the operations alarms, and the dashboard
 * row that shows them. Dimensions are bounded by the config (`guardrails.sendingDomains`, `.vmtas`;
 * everything else is `other`), so the alarm count is known at synth (docs/cost.md).
 */

import { Duration } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type Dashboard,
  GraphWidget,
  type HorizontalAnnotation,
  type IMetric,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { DIMENSIONS, METRIC_NAMESPACE, METRICS } from '#lambda/metric-names.ts';
import type { GuardrailsConfig } from '../../functions/core/config-schema.ts';
import { fraction } from '../../functions/core/guardrails/guardrails.ts';
import { BUILT_IN_DOMAINS } from '../../functions/core/guardrails/mailbox-provider.ts';
import {
  bounceMetric,
  bounceMetricByDimension,
  SERVICE_DIMENSION,
  SERVICE_NAMES,
} from '../bounce-metrics.ts';
import { allowAlarmsToPublish } from './alarm-topic-policy.ts';

interface DeliverabilityGuardrailsProps {
  guardrails: GuardrailsConfig;
  /** Addresses subscribed by email to the guardrails topic. */
  emails: readonly string[];
  /** The operations dashboard: the guardrail row is added to it. */
  dashboard: Dashboard;
  providerIds: readonly string[];
}

const OTHER = 'other';

/** The bounded dimension values the ingest function emits (functions/core/guardrails/traffic-metrics.ts). */
function dimensionValues(g: GuardrailsConfig) {
  const groups = [...new Set([...Object.keys(BUILT_IN_DOMAINS), ...Object.keys(g.mailboxProviders)])];
  return {
    sendingDomains: [...g.sendingDomains.map((d) => d.toLowerCase()), OTHER],
    mailboxProviders: [...groups.filter((x) => x !== OTHER), OTHER],
    vmtas: [...g.vmtas.map((v) => v.toLowerCase()), OTHER],
  };
}

/** A PascalCase construct-id part from a domain, group or VirtualMTA name. */
function idPart(value: string): string {
  return value
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

class DeliverabilityGuardrails extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly #action: SnsAction;

  constructor(scope: Construct, id: string, props: DeliverabilityGuardrailsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', {
      displayName: 'pmta-bounce deliverability guardrails',
      enforceSSL: true,
    });
    for (const email of props.emails) this.topic.addSubscription(new EmailSubscription(email));
    this.#action = new SnsAction(this.topic);
    allowAlarmsToPublish(this.topic, this.alarms);
    const values = dimensionValues(props.guardrails);
    for (const domain of values.sendingDomains) this.#complaintRateAlarms(domain, props.guardrails);
    for (const group of values.mailboxProviders)
      for (const vmta of values.vmtas) this.#blockSpikeAlarm(group, vmta, props.guardrails);
    this.#dashboardRow(props, values.sendingDomains);
  }

  /** complaints / deliveries of one sending domain over a day, at the warn and critical levels. */
  #complaintRateAlarms(domain: string, g: GuardrailsConfig): void {
    const rate = complaintRate(domain, Duration.days(1), 0, g.complaintRatePercent.minDeliveries);
    for (const [level, percent] of [
      ['Warn', g.complaintRatePercent.warn],
      ['Critical', g.complaintRatePercent.critical],
    ] as const) {
      this.#alarm(`ComplaintRate${level}${idPart(domain)}`, {
        alarmDescription: `${level.toLowerCase()}: the complaint rate of ${domain} over a day reached ${percent} % (docs/guardrails.md).`,
        metric: rate,
        threshold: fraction(percent),
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    }
  }

  /** Sender-side blocks / attempts at one mailbox provider through one VirtualMTA in an hour. */
  #blockSpikeAlarm(group: string, vmta: string, g: GuardrailsConfig): void {
    const period = Duration.hours(1);
    const dims = { [DIMENSIONS.mailboxProvider]: group, [DIMENSIONS.vmta]: vmta };
    const attempts = bounceMetric('attempts', { dimensions: dims, statistic: 'Sum', period });
    const blocks = bounceMetric('blocks', { dimensions: dims, statistic: 'Sum', period });
    this.#alarm(`BlockSpike${idPart(group)}${idPart(vmta)}`, {
      alarmDescription: `Sender-side blocks at ${group} through VirtualMTA ${vmta} were above ${g.blockSpike.percent} % of at least ${g.blockSpike.minAttempts} attempts in an hour (docs/guardrails.md).`,
      metric: new MathExpression({
        expression: `IF(FILL(attempts, 0) >= ${g.blockSpike.minAttempts}, FILL(blocks, 0) / attempts, 0)`,
        usingMetrics: { attempts, blocks },
        label: `${group} via ${vmta} block share`,
        period,
      }),
      threshold: fraction(g.blockSpike.percent),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }

  #alarm(
    alarmId: string,
    p: {
      alarmDescription: string;
      metric: IMetric;
      threshold: number;
      comparisonOperator: ComparisonOperator;
    },
  ): void {
    const alarm = new Alarm(this, alarmId, {
      ...p,
      evaluationPeriods: 1,
      // No traffic is no evidence of trouble.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.#action);
    alarm.addOkAction(this.#action);
    this.alarms.push(alarm);
  }

  /** Complaint rate with the 0.1/0.3 lines, bounces by category, blocks, unsubscribes per provider. */
  #dashboardRow(props: DeliverabilityGuardrailsProps, domains: readonly string[]): void {
    const g = props.guardrails;
    const hour = Duration.hours(1);
    const line = (label: string, percent: number, color: string): HorizontalAnnotation => ({
      label,
      value: fraction(percent),
      color,
    });
    props.dashboard.addWidgets(
      new GraphWidget({
        title: 'Complaint rate per sending domain (daily)',
        left: domains.map((d, i) => complaintRate(d, Duration.days(1), i, 1)),
        leftAnnotations: [
          line(`warn ${g.complaintRatePercent.warn} %`, g.complaintRatePercent.warn, '#ff7f0e'),
          line(`critical ${g.complaintRatePercent.critical} %`, g.complaintRatePercent.critical, '#d62728'),
        ],
        width: 12,
        height: 6,
      }),
      new GraphWidget({
        title: 'Bounces by category',
        left: [bounceMetricByDimension('bounces', DIMENSIONS.category, hour, '')],
        stacked: true,
        width: 12,
        height: 6,
      }),
    );
    props.dashboard.addWidgets(
      new GraphWidget({
        title: 'Sender-side blocks by mailbox provider and VirtualMTA',
        left: [searchTraffic('blocks', `${DIMENSIONS.mailboxProvider},${DIMENSIONS.vmta}`, hour)],
        right: [searchTraffic('attempts', `${DIMENSIONS.mailboxProvider},${DIMENSIONS.vmta}`, hour)],
        rightYAxis: { label: 'attempts', showUnits: false },
        width: 12,
        height: 6,
      }),
      new GraphWidget({
        title: 'Unsubscribed per provider',
        left: props.providerIds.map((p) =>
          bounceMetric('providerOutcomes', {
            dimensions: { [DIMENSIONS.provider]: p, [DIMENSIONS.outcome]: 'done' },
            statistic: 'Sum',
            period: hour,
            label: p,
          }),
        ),
        width: 12,
        height: 6,
      }),
    );
  }
}

/**
 * complaints / deliveries of one sending domain, 0 below `minDeliveries` (no rate from a handful);
 * `n` keeps metric ids apart on one graph.
 */
function complaintRate(domain: string, period: Duration, n: number, minDeliveries: number): MathExpression {
  const dims = { [DIMENSIONS.sendingDomain]: domain };
  return new MathExpression({
    expression: `IF(FILL(deliveries${n}, 0) >= ${minDeliveries}, FILL(complaints${n}, 0) / deliveries${n}, 0)`,
    usingMetrics: {
      [`deliveries${n}`]: bounceMetric('deliveries', { dimensions: dims, statistic: 'Sum', period }),
      [`complaints${n}`]: bounceMetric('complaints', { dimensions: dims, statistic: 'Sum', period }),
    },
    label: domain,
    period,
  });
}

/** Every emitted dimension combination of one traffic metric (SEARCH: no list to keep in sync). */
function searchTraffic(key: 'blocks' | 'attempts', dimensions: string, period: Duration): MathExpression {
  return new MathExpression({
    expression:
      `SEARCH('{${METRIC_NAMESPACE},${SERVICE_DIMENSION},${dimensions}} ` +
      `MetricName="${METRICS[key]}" ${SERVICE_DIMENSION}="${SERVICE_NAMES.ingest}"', 'Sum', ${period.toSeconds()})`,
    usingMetrics: {},
    label: '',
    period,
  });
}

export type { DeliverabilityGuardrailsProps };
export { DeliverabilityGuardrails, dimensionValues };
