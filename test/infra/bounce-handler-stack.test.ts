/**
 * Assertions on the synthesized stack. One synth (4 esbuild bundles) in beforeAll, shared by all.
 * While a handler of HANDLER_ENTRIES does not exist yet, every function bundles a stand-in fixture
 * and the last test fails, naming the missing entries.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV, HANDLER_ENTRIES } from '#lambda/env.ts';
import { METRICS } from '#lambda/metric-names.ts';
import { buildBounceHandlerApp } from '../../infra/bounce-handler-app.ts';
import {
  ACT_MAX_CONCURRENCY,
  type BounceHandlerStack,
  PROJECT_ROOT,
} from '../../infra/bounce-handler-stack.ts';
import type { BounceFunction } from '../../infra/constructs/bounce-function.ts';
import type { QueueConsumerFunction } from '../../infra/constructs/queue-consumer-function.ts';
import { VISIBILITY_FACTOR } from '../../infra/constructs/queue-consumer-function.ts';

const STACK_NAME = 'PmtaBounceTest';
const CONFIG = 'test/infra/fixtures/stack.config.yaml';
const FIXTURE_HANDLER = 'test/infra/fixtures/noop-handler.ts';
/** Values an operator might have in the shell while running cdk: none may reach the template. */
const CANARIES = {
  MAILWIZZ_API_KEY: 'canary-mw-key-4f1d9a',
  MAILWIZZ_PRIVATE_KEY: 'canary-mw-private-77c2e0',
  INTERSPIRE_TOKEN: 'canary-iem-token-b93e51',
  WEBHOOK_SECRET: 'whsec_Y2FuYXJ5LXdlYmhvb2stc2VjcmV0LTVhOGM=',
};

const missingEntries = Object.values(HANDLER_ENTRIES).filter((e) => !existsSync(join(PROJECT_ROOT, e)));

let app: App;
let stack: BounceHandlerStack;
let template: Template;
let json: string;

type Resource = { Type: string; Properties: Record<string, unknown> };

function logicalId(construct: IConstruct): string {
  return Stack.of(construct).getLogicalId(construct.node.defaultChild as CfnElement);
}
function child<T>(id: string): T {
  return stack.node.findChild(id) as T;
}
function resourcesOf(type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}
const getAttArn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

beforeAll(() => {
  for (const [k, v] of Object.entries(CANARIES)) vi.stubEnv(k, v);
  app = new App();
  stack = buildBounceHandlerApp(app, {
    configPath: join(PROJECT_ROOT, CONFIG),
    stackName: STACK_NAME,
    ...(missingEntries.length > 0 ? { handlerEntryOverride: FIXTURE_HANDLER } : {}),
  });
  // Synthesizes the whole app, cdk-nag plugin included: a finding would throw here.
  template = Template.fromStack(stack);
  json = JSON.stringify(template.toJSON());
});

afterAll(() => {
  vi.unstubAllEnvs();
});

describe('queues', () => {
  it('every queue has a dead-letter queue or is one, with SSE-SQS and TLS-only policies', () => {
    const queues = resourcesOf('AWS::SQS::Queue');
    const deadLetterTargets = new Set<string>();
    for (const q of Object.values(queues)) {
      const redrive = q.Properties.RedrivePolicy as
        | { deadLetterTargetArn: { 'Fn::GetAtt': string[] } }
        | undefined;
      if (redrive) deadLetterTargets.add(redrive.deadLetterTargetArn['Fn::GetAtt'][0]!);
    }
    for (const c of Object.values(resourcesOf('AWS::Lambda::EventInvokeConfig'))) {
      const dest = (
        c.Properties.DestinationConfig as { OnFailure: { Destination: { 'Fn::GetAtt': string[] } } }
      ).OnFailure.Destination;
      deadLetterTargets.add(dest['Fn::GetAtt'][0]!);
    }
    expect(Object.keys(queues)).toHaveLength(5); // records, actions, their DLQs, unsub failed events
    for (const [id, q] of Object.entries(queues)) {
      expect(q.Properties.SqsManagedSseEnabled, id).toBe(true);
      expect(q.Properties.KmsMasterKeyId, id).toBeUndefined();
      expect(Boolean(q.Properties.RedrivePolicy) || deadLetterTargets.has(id), `${id} has or is a DLQ`).toBe(
        true,
      );
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    for (const name of ['Ingest', 'Act']) {
      const consumer = child<QueueConsumerFunction>(name);
      template.hasResourceProperties('AWS::SQS::Queue', {
        RedrivePolicy: { deadLetterTargetArn: getAttArn(logicalId(consumer.deadLetterQueue)) },
        MaximumMessageSize: 1_048_576, // docs/deploy-aws.md tells the shipper it may pack 1 MiB
      });
    }
  });

  it('both event sources report batch item failures; visibility is 6x the function timeout', () => {
    const mappings = Object.values(resourcesOf('AWS::Lambda::EventSourceMapping'));
    expect(mappings).toHaveLength(2);
    const queues = resourcesOf('AWS::SQS::Queue');
    const functions = resourcesOf('AWS::Lambda::Function');
    for (const m of mappings) {
      expect(m.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
      const queueId = (m.Properties.EventSourceArn as { 'Fn::GetAtt': string[] })['Fn::GetAtt'][0]!;
      const fnId = (m.Properties.FunctionName as { Ref: string }).Ref;
      const timeout = functions[fnId]!.Properties.Timeout as number;
      expect(queues[queueId]!.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
        timeout * VISIBILITY_FACTOR,
      );
    }
  });

  it("sizes the act function's timeout from the providers' timeouts and retries", () => {
    // Defaults: 10 s per attempt, 4 retries → 50 s worst call → 2 × 50 + 30.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^pmta-bounce act'),
      Timeout: 130,
    });
  });

  it("bounds the act function's concurrency, not ingest's", () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(child<BounceFunction>('Act').function) },
      ScalingConfig: { MaximumConcurrency: ACT_MAX_CONCURRENCY },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(child<BounceFunction>('Ingest').function) },
      ScalingConfig: Match.absent(),
    });
  });
});

describe('table', () => {
  it('is on-demand with the TTL attribute and point-in-time recovery', () => {
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', {
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      Replicas: [
        Match.objectLike({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }),
      ],
    });
  });
});

describe('functions', () => {
  it('run on nodejs24.x arm64 with source maps and their own log group with retention', () => {
    const functions = resourcesOf('AWS::Lambda::Function');
    expect(Object.keys(functions)).toHaveLength(4);
    const logGroups = resourcesOf('AWS::Logs::LogGroup');
    for (const [id, fn] of Object.entries(functions)) {
      expect(fn.Properties.Runtime, id).toBe('nodejs24.x');
      expect(fn.Properties.Architectures, id).toEqual(['arm64']);
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
      const group = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(logGroups[group]?.Properties.RetentionInDays, id).toBe(30);
    }
  });

  it('use no AWS managed policy and write only to their own log group', () => {
    for (const name of ['Ingest', 'Act', 'Unsub', 'Notify']) {
      const fn = child<BounceFunction>(name);
      template.hasResourceProperties('AWS::IAM::Role', {
        RoleName: Match.absent(),
        ManagedPolicyArns: Match.absent(),
        AssumeRolePolicyDocument: Match.objectLike({
          Statement: [Match.objectLike({ Principal: { Service: 'lambda.amazonaws.com' } })],
        }),
      });
      template.hasResourceProperties('AWS::IAM::Policy', {
        Roles: [{ Ref: logicalId(fn.role) }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            {
              Effect: 'Allow',
              Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: getAttArn(logicalId(fn.logGroup)),
            },
          ]),
        },
      });
    }
  });

  it('get the config with placeholders and the secret ARN, never a secret value', () => {
    for (const canary of Object.values(CANARIES)) expect(json).not.toContain(canary);
    const secretId = Object.keys(resourcesOf('AWS::SecretsManager::Secret'))[0]!;
    const allowed = new Set([...Object.values(ENV), 'NODE_OPTIONS']);
    const readers = new Set(['Ingest', 'Act'].map((n) => logicalId(child<BounceFunction>(n).function)));
    for (const [id, fn] of Object.entries(resourcesOf('AWS::Lambda::Function'))) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const key of Object.keys(env)) expect(allowed.has(key), `${id} env ${key}`).toBe(true);
      // Only the functions that call providers may read the secret (unsub and notify need no credentials).
      expect(env[ENV.SECRET_ARN], id).toEqual(readers.has(id) ? { Ref: secretId } : undefined);
      const configJson = JSON.parse(env[ENV.CONFIG_JSON] as string);
      const placeholder = (name: string) => `\${${name}}`;
      expect(configJson.providers[0].apiKey).toBe(placeholder('MAILWIZZ_API_KEY'));
      expect(configJson.providers[2].secret).toBe(placeholder('WEBHOOK_SECRET'));
    }
    const secretReaders = Object.values(resourcesOf('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties).includes('secretsmanager:GetSecretValue'))
      .map((p) => JSON.stringify(p.Properties.Roles));
    expect(secretReaders.sort()).toEqual(
      ['Act', 'Ingest']
        .map((n) => JSON.stringify([{ Ref: logicalId(child<BounceFunction>(n).role) }]))
        .sort(),
    );
    // The secret's value is generated: the template never carries a SecretString.
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: Match.absent(),
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{}' }),
    });
    template.hasOutput('ProviderSecretKeys', {
      Value: 'INTERSPIRE_TOKEN,MAILWIZZ_API_KEY,MAILWIZZ_PRIVATE_KEY,WEBHOOK_SECRET',
    });
  });

  it('notify sends only from the configured address and runs on the digest schedule', () => {
    const notify = child<BounceFunction>('Notify');
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: logicalId(notify.role) }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['ses:SendEmail', 'ses:SendRawEmail'],
            Condition: { StringEquals: { 'ses:FromAddress': 'bounces@mail.example.net' } },
          }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(30 minutes)',
      Targets: [Match.objectLike({ Arn: getAttArn(logicalId(notify.function)) })],
    });
  });
});

describe('SES unsubscribe path', () => {
  it('one receipt rule for every configured domain invokes the unsub function', () => {
    const unsub = child<BounceFunction>('Unsub');
    template.resourceCountIs('AWS::SES::ReceiptRule', 1);
    template.hasResourceProperties('AWS::SES::ReceiptRuleSet', { RuleSetName: `${STACK_NAME}-unsubscribe` });
    template.hasResourceProperties('AWS::SES::ReceiptRule', {
      Rule: Match.objectLike({
        Enabled: true,
        ScanEnabled: true,
        Recipients: ['unsub.example.com', 'u.example.org'],
        Actions: [
          { LambdaAction: { FunctionArn: getAttArn(logicalId(unsub.function)), InvocationType: 'Event' } },
        ],
      }),
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: getAttArn(logicalId(unsub.function)),
      Principal: 'ses.amazonaws.com',
      Action: 'lambda:InvokeFunction',
    });
  });
});

describe('shipper identity', () => {
  it('may do exactly sqs:SendMessage on the records queue, nothing else', () => {
    const recordsQueueId = logicalId(stack.recordsQueue);
    const policies = resourcesOf('AWS::IAM::ManagedPolicy');
    expect(Object.keys(policies)).toHaveLength(1);
    const [policyId, policy] = Object.entries(policies)[0]!;
    expect((policy.Properties.PolicyDocument as { Statement: unknown[] }).Statement).toEqual([
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAttArn(recordsQueueId) },
    ]);
    const shipperRole = child<IConstruct>('ShipperRole');
    const shipperUser = child<IConstruct>('ShipperUser');
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: [{ Ref: policyId }],
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })],
      }),
    });
    template.hasResourceProperties('AWS::IAM::User', { ManagedPolicyArns: [{ Ref: policyId }] });
    // No inline policy, no access key, no other grant reaches the shipper's identities.
    for (const p of Object.values(resourcesOf('AWS::IAM::Policy'))) {
      expect(JSON.stringify(p.Properties)).not.toContain(logicalId(shipperRole));
      expect(JSON.stringify(p.Properties)).not.toContain(logicalId(shipperUser));
    }
    template.resourceCountIs('AWS::IAM::AccessKey', 0);
    template.hasOutput('ShipperUserArn', {});
    template.hasOutput('ShipperRoleArn', {});
  });
});

describe('observability', () => {
  it('has a dashboard named after the stack with every metric of functions/lambda/metric-names.ts', () => {
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: STACK_NAME });
    const body = JSON.stringify(Object.values(resourcesOf('AWS::CloudWatch::Dashboard'))[0]!.Properties);
    for (const metric of Object.values(METRICS)) expect(body, metric).toContain(metric);
    // Powertools adds the `service` dimension: the dashboard must name it or it shows nothing.
    expect(body).toMatch(/"service\W+pmta-bounce-act/);
    expect(body).toMatch(/\{PmtaBounce,service,RecordType\} MetricName=\W+RecordsIn/);
    for (const sqs of ['ApproximateNumberOfMessagesVisible', 'ApproximateAgeOfOldestMessage', 'p99', 'p50']) {
      expect(body).toContain(sqs);
    }
  });

  it('has every alarm, each notifying the SNS topic with the configured email subscriptions', () => {
    const alarms = resourcesOf('AWS::CloudWatch::Alarm');
    const ids = Object.keys(alarms).map((id) => id.replace(/[0-9A-F]{8}$/, ''));
    expect(ids.sort()).toEqual(
      [
        'AlarmsActFunctionErrors',
        'AlarmsActionsDeadLetterQueueNotEmpty',
        'AlarmsActionsQueueOldestMessageTooOld',
        'AlarmsIngestFunctionErrors',
        'AlarmsNoRecordsReceived',
        'AlarmsNotifyFunctionErrors',
        'AlarmsProviderErrorRateCrmHook',
        'AlarmsProviderErrorRateInterspire',
        'AlarmsProviderErrorRateMailwizz',
        'AlarmsProviderPermanentErrorsCrmHook',
        'AlarmsProviderPermanentErrorsInterspire',
        'AlarmsProviderPermanentErrorsMailwizz',
        'AlarmsRecordsDeadLetterQueueNotEmpty',
        'AlarmsRecordsQueueOldestMessageTooOld',
        'AlarmsUnsubDeadLetterQueueNotEmpty',
        'AlarmsUnsubFunctionErrors',
        'AlarmsUnsubscribeRateLimited',
      ].sort(),
    );
    const topicId = Object.keys(resourcesOf('AWS::SNS::Topic'))[0]!;
    for (const [id, alarm] of Object.entries(alarms)) {
      expect(alarm.Properties.AlarmActions, id).toEqual([{ Ref: topicId }]);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'NumberOfMessagesSent',
      Dimensions: [
        { Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.recordsQueue), 'QueueName'] } },
      ],
      EvaluationPeriods: 4,
      Period: 3600,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    // The rate-limit alarm sums both scopes of the unsub function's metric (docs/security.md).
    for (const scope of ['sender-domain', 'global'])
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        AlarmName: Match.absent(),
        Threshold: 0,
        Metrics: Match.arrayWith([
          Match.objectLike({
            MetricStat: Match.objectLike({
              Metric: Match.objectLike({
                MetricName: 'UnsubscribeRateLimited',
                Dimensions: Match.arrayWith([
                  { Name: 'Scope', Value: scope },
                  { Name: 'service', Value: 'pmta-bounce-unsub' },
                ]),
              }),
            }),
          }),
        ]),
      });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ProviderPermanentErrors',
      Namespace: 'PmtaBounce',
      Dimensions: Match.arrayWith([{ Name: 'Provider', Value: 'mailwizz' }]),
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Threshold: 20 * 60,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Threshold: 5,
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({
              MetricName: 'ProviderOutcomes',
              Dimensions: Match.arrayWith([
                { Name: 'Outcome', Value: 'failed' },
                { Name: 'Provider', Value: 'crm-hook' },
                { Name: 'service', Value: 'pmta-bounce-act' },
              ]),
            }),
          }),
        }),
      ]),
    });
    for (const email of ['ops@example.com', 'oncall@example.com']) {
      template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: email });
    }
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('reports zero unacknowledged findings for the stack', () => {
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.map(
      (v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.constructPath).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('is able to fail: an unencrypted queue without a DLQ is reported', () => {
    const probeApp = new App();
    const probe = new Stack(probeApp, 'NagProbe');
    new Queue(probe, 'Plain');
    const report = new AwsSolutionsChecks().validateScope(probeApp);
    expect(report.violations.map((v) => v.ruleName)).toEqual(
      expect.arrayContaining(['AwsSolutions-SQS3', 'AwsSolutions-SQS4']),
    );
  });
});

describe('handlers', () => {
  // Last on purpose: the assertions above hold either way; this one waits for functions/handlers.
  it('every entry of HANDLER_ENTRIES exists, so the real app bundles the real handlers', () => {
    expect(missingEntries, 'missing handler files (the tests above used a stand-in)').toEqual([]);
  });
});
