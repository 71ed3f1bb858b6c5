/**
 * The guardrail alarms, their topic and the dashboard row (infra/constructs/deliverability-guardrails.ts),
 * synthesized on their own (no bundling) and checked with CDK assertions; cdk-nag runs on them too.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Dashboard } from 'aws-cdk-lib/aws-cloudwatch';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config-schema.ts';
import { DeliverabilityGuardrails } from '../../infra/constructs/deliverability-guardrails.ts';

let template: Template;
let guardrails: DeliverabilityGuardrails;
let dashboardBody: string;

beforeAll(() => {
  const config = parseConfig(
    {
      guardrails: {
        sendingDomains: ['news.example.com', 'shop.example.com'],
        vmtas: ['vmta-1'],
        email: ['deliv@example.com'],
        blockSpike: { percent: 15, minAttempts: 80 },
      },
    },
    {},
    {},
  );
  const app = new App();
  const stack = new Stack(app, 'GuardrailsTest', { env: { account: '123456789012', region: 'eu-west-1' } });
  const dashboard = new Dashboard(stack, 'Dashboard');
  guardrails = new DeliverabilityGuardrails(stack, 'Guardrails', {
    guardrails: config.guardrails,
    emails: config.guardrails.email ?? [],
    dashboard,
    providerIds: ['mw'],
  });
  const nag = new AwsSolutionsChecks(app);
  expect(nag.validateScope(app).violations ?? []).toEqual([]);
  template = Template.fromStack(stack);
  dashboardBody = JSON.stringify(template.findResources('AWS::CloudWatch::Dashboard'));
});

describe('deliverability guardrails', () => {
  it('has its own topic with the email subscription, TLS only, and CloudWatch allowed to publish', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'pmta-bounce deliverability guardrails',
    });
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'deliv@example.com',
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({
            Sid: 'AllowCloudWatchAlarmsToPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: Match.objectLike({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } }),
          }),
        ]),
      },
    });
  });

  it('alarms on the complaint rate of each listed sending domain and of the rest, at both levels', () => {
    // (2 listed + other) × (warn, critical) + 6 mailbox providers × (1 listed vmta + other)
    expect(guardrails.alarms).toHaveLength(3 * 2 + 6 * 2);
    for (const [domain, level, threshold] of [
      ['news.example.com', 'warn', 0.001],
      ['shop.example.com', 'critical', 0.003],
      ['other', 'critical', 0.003],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmDescription: Match.stringLikeRegexp(
          `^${level}: the complaint rate of ${domain.replaceAll('.', '\\.')} over a day`,
        ),
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
        Metrics: Match.arrayWith([
          Match.objectLike({
            Expression: 'IF(FILL(deliveries0, 0) >= 100, FILL(complaints0, 0) / deliveries0, 0)',
          }),
          Match.objectLike({
            Id: 'deliveries0',
            MetricStat: Match.objectLike({
              Period: 86400,
              Metric: Match.objectLike({
                MetricName: 'Deliveries',
                Dimensions: Match.arrayWith([{ Name: 'SendingDomain', Value: domain }]),
              }),
            }),
          }),
        ]),
      });
    }
  });

  it('alarms on block spikes per mailbox provider and VirtualMTA with the minimum attempts', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^Sender-side blocks at gmail through VirtualMTA vmta-1'),
      Threshold: 0.15,
      ComparisonOperator: 'GreaterThanThreshold',
      Metrics: Match.arrayWith([
        Match.objectLike({ Expression: 'IF(FILL(attempts, 0) >= 80, FILL(blocks, 0) / attempts, 0)' }),
        Match.objectLike({
          Id: 'blocks',
          MetricStat: Match.objectLike({
            Period: 3600,
            Metric: Match.objectLike({
              MetricName: 'Blocks',
              Dimensions: Match.arrayWith([
                { Name: 'MailboxProvider', Value: 'gmail' },
                { Name: 'Vmta', Value: 'vmta-1' },
              ]),
            }),
          }),
        }),
      ]),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmDescription: Match.stringLikeRegexp('^Sender-side blocks at other through VirtualMTA other'),
    });
  });

  it('sends every alarm and its recovery to the guardrails topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    for (const alarm of alarms) {
      expect(alarm.Properties.AlarmActions).toHaveLength(1);
      expect(alarm.Properties.OKActions).toEqual(alarm.Properties.AlarmActions);
    }
  });

  it('adds the complaint-rate (with the 0.1 % and 0.3 % lines), bounces, blocks and unsubscribes widgets', () => {
    for (const text of [
      'Complaint rate per sending domain (daily)',
      'warn 0.1 %',
      'critical 0.3 %',
      'Bounces by category',
      'Sender-side blocks by mailbox provider and VirtualMTA',
      'Unsubscribed per provider',
      'MetricName=\\\\\\"Blocks\\\\\\"',
    ])
      expect(dashboardBody).toContain(text);
  });
});
