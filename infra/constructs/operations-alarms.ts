/**
 * The alarms of the deployment and the SNS topic they notify: a dead-letter queue that is not
 * empty, a queue whose oldest message is too old, a provider whose calls fail too often or that
 * refuses a request (3xx/4xx: a configuration problem), a silent
 * shipper (no records for N hours) and function errors.
 */

import { Annotations, Duration } from 'aws-cdk-lib';
import {
  Alarm,
  type AlarmProps,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { DIMENSIONS } from '#lambda/metric-names.ts';
import { bounceMetric } from '../bounce-metrics.ts';
import { allowAlarmsToPublish } from './alarm-topic-policy.ts';

interface OperationsAlarmsProps {
  /** Queues whose messages must not grow old, by a readable name (e.g. Records, Actions). */
  workQueues: Record<string, IQueue>;
  /** Dead-letter queues, by a readable name. */
  deadLetterQueues: Record<string, IQueue>;
  /** The queue the shipper sends to: no message for `noRecordsHours` means a silent shipper. */
  recordsQueue: IQueue;
  /** Functions whose errors (crashes, timeouts, config errors at cold start) alarm. */
  functions: Record<string, IFunction>;
  providerIds: readonly string[];
  emails: readonly string[];
  noRecordsHours: number;
  oldestMessageMinutes: number;
  providerErrorPercent: number;
}

class OperationsAlarms extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly #action: SnsAction;

  constructor(scope: Construct, id: string, props: OperationsAlarmsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', { displayName: 'pmta-bounce alarms', enforceSSL: true });
    for (const email of props.emails) this.topic.addSubscription(new EmailSubscription(email));
    this.#action = new SnsAction(this.topic);
    allowAlarmsToPublish(this.topic, this.alarms);
    if (props.emails.length === 0) {
      Annotations.of(this).addWarningV2(
        'pmta-bounce:alarms-no-subscriber',
        'alarms.email is not set: the alarm topic has no subscriber, so no alarm reaches anyone. Set ' +
          'alarms.email, or subscribe to the AlarmTopicArn output yourself (docs/deploy-aws.md)',
      );
    }
    this.#queueAlarms(props);
    this.#providerAlarms(props);
    this.#silenceAndErrorAlarms(props);
  }

  /** A dead-letter queue that is not empty; a work queue whose oldest message is too old. */
  #queueAlarms(props: OperationsAlarmsProps): void {
    const add = (alarmId: string, alarm: AlarmProps): void => void this.addAlarm(alarmId, alarm);
    for (const [name, queue] of Object.entries(props.deadLetterQueues)) {
      add(`${name}DeadLetterQueueNotEmpty`, {
        alarmDescription: `The ${name} dead-letter queue holds messages: inspect them and redrive after the fix.`,
        metric: queue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    for (const [name, queue] of Object.entries(props.workQueues)) {
      add(`${name}QueueOldestMessageTooOld`, {
        alarmDescription: `The oldest message of the ${name} queue is older than ${props.oldestMessageMinutes} minutes.`,
        metric: queue.metricApproximateAgeOfOldestMessage({
          period: Duration.minutes(5),
          statistic: 'Maximum',
        }),
        threshold: props.oldestMessageMinutes * 60,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /** One provider's failed calls above `providerErrorPercent` over 15 minutes. */
  #providerAlarms(props: OperationsAlarmsProps): void {
    const add = (alarmId: string, alarm: AlarmProps): void => void this.addAlarm(alarmId, alarm);
    const usedIds = new Set<string>();
    const providerIdParts: string[] = [];
    for (const [index, provider] of props.providerIds.entries()) {
      let idPart = alarmIdPart(provider);
      if (usedIds.has(idPart)) idPart = `${idPart}${index}`; // "a-b" and "a_b" both give "AB"
      usedIds.add(idPart);
      providerIdParts.push(idPart);
      const period = Duration.minutes(15);
      const calls = bounceMetric('providerCalls', {
        dimensions: { [DIMENSIONS.provider]: provider },
        statistic: 'Sum',
        period,
      });
      const failed = bounceMetric('providerOutcomes', {
        dimensions: { [DIMENSIONS.provider]: provider, [DIMENSIONS.outcome]: 'failed' },
        statistic: 'Sum',
        period,
      });
      add(`ProviderErrorRate${idPart}`, {
        alarmDescription: `More than ${props.providerErrorPercent}% of the calls to provider ${provider} failed in 15 minutes.`,
        metric: new MathExpression({
          expression: 'IF(calls > 0, 100 * FILL(failed, 0) / calls, 0)',
          usingMetrics: { calls, failed },
          label: `${provider} failed calls %`,
          period,
        }),
        threshold: props.providerErrorPercent,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    for (const [index, provider] of props.providerIds.entries()) {
      // A 3xx or 4xx other than not-found is a configuration problem (a redirect, a wrong path):
      // the actions wait with backoff and end in the actions DLQ; this says so at the first one.
      add(`ProviderPermanentErrors${providerIdParts[index]}`, {
        alarmDescription: `Provider ${provider} refused a request with a 3xx/4xx answer (not a not-found): fix its configuration; the actions are kept (actions DLQ, then redrive).`,
        metric: bounceMetric('providerPermanentErrors', {
          dimensions: { [DIMENSIONS.provider]: provider },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /** A silent shipper, an unsubscribe flood (rate-limited mail), function errors. */
  #silenceAndErrorAlarms(props: OperationsAlarmsProps): void {
    const add = (alarmId: string, alarm: AlarmProps): void => void this.addAlarm(alarmId, alarm);
    add('NoRecordsReceived', {
      alarmDescription: `No accounting record reached the records queue for ${props.noRecordsHours} hours: is pmta-shipper running?`,
      metric: props.recordsQueue.metricNumberOfMessagesSent({ period: Duration.hours(1), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: props.noRecordsHours,
      // SQS publishes nothing for an idle queue: missing data is exactly the silence we look for.
      treatMissingData: TreatMissingData.BREACHING,
    });

    // A flood of unsubscribe mail (forged or real) went over unsubscribe.rateLimit: those mails are
    // deferred (retried, then parked in the Unsub dead-letter queue). docs/security.md.
    if (props.functions.Unsub) {
      const period = Duration.minutes(5);
      const scope = (value: string) =>
        bounceMetric('unsubscribeRateLimited', {
          dimensions: { [DIMENSIONS.scope]: value },
          statistic: 'Sum',
          period,
        });
      add('UnsubscribeRateLimited', {
        alarmDescription:
          'Unsubscribe mail went over a rate limit (unsubscribe.rateLimit): a flood, forged or real. ' +
          'The deferred mails are retried, then parked in the Unsub dead-letter queue for a redrive.',
        metric: new MathExpression({
          expression: 'FILL(domain, 0) + FILL(global, 0)',
          usingMetrics: { domain: scope('sender-domain'), global: scope('global') },
          label: 'unsubscribe mails deferred',
          period,
        }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    // The 48-hour promise: an unsubscribe request still owed after 24 h leaves a day to fix the
    // provider before Gmail's and Yahoo's deadline (docs/unsubscribe.md, "Within 48 hours").
    if (props.functions.Unsub || props.functions.UnsubHttp) {
      add('UnsubscribeOlderThan24h', {
        alarmDescription:
          'An unsubscribe request (one-click or mailto) is still not done at every provider 24 h after it was made: ' +
          'fix the provider (act logs, the actions DLQ) before the 48-hour deadline.',
        metric: bounceMetric('pendingUnsubscribeAge', { statistic: 'Maximum', period: Duration.minutes(15) }),
        threshold: 24 * 3_600_000,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    for (const [name, fn] of Object.entries(props.functions)) {
      add(`${name}FunctionErrors`, {
        alarmDescription: `The ${name} function failed (crash, timeout or configuration error at cold start).`,
        metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /** One more alarm notifying the topic on ALARM and on OK. */
  addAlarm(alarmId: string, props: AlarmProps): Alarm {
    const created = new Alarm(this, alarmId, props);
    created.addAlarmAction(this.#action);
    created.addOkAction(this.#action);
    this.alarms.push(created);
    return created;
  }
}

/** A provider id (letters, digits, - and _) as part of a PascalCase construct id. */
function alarmIdPart(providerId: string): string {
  return providerId
    .split(/[-_]/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

export type { OperationsAlarmsProps };
export { alarmIdPart, OperationsAlarms };
