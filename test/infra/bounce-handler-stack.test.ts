/**
 * Assertions on the synthesized stack. One synth (4 esbuild bundles) in beforeAll, shared by all.
 * While a handler of HANDLER_ENTRIES does not exist yet, every function bundles a stand-in fixture
 * and the last test fails, naming the missing entries.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ENV, HANDLER_ENTRIES, TABLE_ACTIONS } from '#lambda/env.ts';
import { METRICS } from '#lambda/metric-names.ts';
import { buildBounceHandlerApp } from '../../infra/bounce-handler-app.ts';
import { type BounceHandlerStack, PROJECT_ROOT } from '../../infra/bounce-handler-stack.ts';
import { ACT_MAX_CONCURRENCY } from '../../infra/constructs/act-function.ts';
import type { BounceFunction } from '../../infra/constructs/bounce-function.ts';
import type { QueueConsumerFunction } from '../../infra/constructs/queue-consumer-function.ts';
import { VISIBILITY_FACTOR } from '../../infra/constructs/queue-consumer-function.ts';
import { STABLE_LOGICAL_IDS } from '../../infra/stable-logical-ids.ts';

const STACK_NAME = 'PmtaBounceTest';
const CONFIG = 'test/infra/fixtures/stack.config.yaml';
const FIXTURE_HANDLER = 'test/infra/fixtures/noop-handler.ts';
/** Values an operator might have in the shell while running cdk: none may reach the template. */
const CANARIES = {
  MAILWIZZ_API_KEY: 'canary-mw-key-4f1d9a',
  MAILWIZZ_PRIVATE_KEY: 'canary-mw-private-77c2e0',
  INTERSPIRE_TOKEN: 'canary-iem-token-b93e51',
  WEBHOOK_SECRET: 'whsec_Y2FuYXJ5LXdlYmhvb2stc2VjcmV0LTVhOGM=',
  CRM_HOOK_URL: 'https://crm.example.com/hooks/canary-token-31c9e7',
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
/** Resources of one construct (by logical-id prefix): the operations alarms, or the guardrails. */
function resourcesUnder(type: string, prefix: string): Record<string, Resource> {
  return Object.fromEntries(Object.entries(resourcesOf(type)).filter(([id]) => id.startsWith(prefix)));
}

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
}, 240_000); // four real bundles (the AWS SDK inside), slow on two busy cores

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

  it('outputs the actions queue URL for `undo` and `suppressions import --apply` with --table', () => {
    template.hasOutput('ActionsQueueUrl', { Value: { Ref: logicalId(stack.actionsQueue) } });
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
    // Defaults: 10 s per attempt, 4 retries, 3.75 s of backoff → 53.75 s worst call → 2 × 53.75 + 30.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^pmta-bounce act'),
      Timeout: 138,
    });
  });

  it('bounds both functions; act divides the provider limits by its own bound', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(child<BounceFunction>('Act').function) },
      ScalingConfig: { MaximumConcurrency: ACT_MAX_CONCURRENCY },
    });
    // The act instances share each provider's limits: they are told how many they are.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^pmta-bounce act'),
      Environment: { Variables: Match.objectLike({ [ENV.ACT_INSTANCES]: String(ACT_MAX_CONCURRENCY) }) },
    });
    // stack.config.yaml sets aws.ingestMaxConcurrency: 7 (default 10, app-synth.test.ts).
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: logicalId(child<BounceFunction>('Ingest').function) },
      ScalingConfig: { MaximumConcurrency: 7 },
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
    const readers = new Set(['Act'].map((n) => logicalId(child<BounceFunction>(n).function)));
    for (const [id, fn] of Object.entries(resourcesOf('AWS::Lambda::Function'))) {
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const key of Object.keys(env)) expect(allowed.has(key), `${id} env ${key}`).toBe(true);
      // Only the function that calls providers may read the secret (ingest, unsub and notify route
      // or mail, and need no credentials).
      expect(env[ENV.SECRET_ARN], id).toEqual(readers.has(id) ? { Ref: secretId } : undefined);
      const configJson = JSON.parse(env[ENV.CONFIG_JSON] as string);
      const placeholder = (name: string) => `\${${name}}`;
      expect(configJson.providers[0].apiKey).toBe(placeholder('MAILWIZZ_API_KEY'));
      expect(configJson.providers[2].secret).toBe(placeholder('WEBHOOK_SECRET'));
      // A webhook URL often carries a token: it comes from the secret too.
      expect(configJson.providers[2].url).toBe(placeholder('CRM_HOOK_URL'));
    }
    const secretReaders = Object.values(resourcesOf('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties).includes('secretsmanager:GetSecretValue'))
      .map((p) => JSON.stringify(p.Properties.Roles));
    expect(secretReaders).toEqual([JSON.stringify([{ Ref: logicalId(child<BounceFunction>('Act').role) }])]);
    // The secret's value is generated: the template never carries a SecretString.
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      SecretString: Match.absent(),
      GenerateSecretString: Match.objectLike({ SecretStringTemplate: '{}' }),
    });
    template.hasOutput('ProviderSecretKeys', {
      Value: 'CRM_HOOK_URL,INTERSPIRE_TOKEN,MAILWIZZ_API_KEY,MAILWIZZ_PRIVATE_KEY,WEBHOOK_SECRET',
    });
  });

  it('bundle the AWS SDK version the tests ran (bundleAwsSDK), not the runtime one', () => {
    const act = resourcesOf('AWS::Lambda::Function')[logicalId(child<BounceFunction>('Act').function)]!;
    const key = (act.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, '');
    const bundle = readFileSync(join(app.outdir, `asset.${key}`, 'index.mjs'), 'utf8');
    const { version } = JSON.parse(
      readFileSync(join(PROJECT_ROOT, 'node_modules/@aws-sdk/client-sqs/package.json'), 'utf8'),
    ) as { version: string };
    expect(bundle).toContain('ChangeMessageVisibility');
    expect(bundle).toContain(`"${version}"`);
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
    const shipperRole = stack.shipper.role;
    const shipperUser = stack.shipper.user!; // stack.config.yaml sets aws.shipperUser: true
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
    const alarms = resourcesUnder('AWS::CloudWatch::Alarm', 'Alarms');
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
        'AlarmsUnsubscribeOlderThan24h',
      ].sort(),
    );
    const topicId = Object.keys(resourcesUnder('AWS::SNS::Topic', 'Alarms'))[0]!;
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

describe('least privilege', () => {
  const tablePolicy = (fn: BounceFunction) => {
    const policy = Object.values(resourcesOf('AWS::IAM::Policy')).find(
      (p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: logicalId(fn.role) }]),
    )!;
    const statements = (policy.Properties.PolicyDocument as { Statement: Array<{ Action: unknown }> })
      .Statement;
    return statements
      .flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action]))
      .filter((a): a is string => typeof a === 'string' && a.startsWith('dynamodb:'))
      .sort();
  };

  // unsub-http is off in this fixture: its table actions are checked in one-click-endpoint.test.ts.
  const tableActions = Object.entries(TABLE_ACTIONS).filter(([name]) => name !== 'unsub-http');
  it.each(tableActions)('%s may use exactly its DynamoDB actions', (name, actions) => {
    const fn = child<BounceFunction>(name[0]!.toUpperCase() + name.slice(1)); // Ingest, Act, Unsub, Notify
    expect(tablePolicy(fn)).toEqual(actions.map((a) => `dynamodb:${a}`).sort());
  });

  it('no function may scan or delete single items', () => {
    expect(json).not.toContain('dynamodb:Scan');
    expect(json).not.toContain('dynamodb:DeleteItem');
    expect(json).not.toMatch(/dynamodb:\*/);
  });

  it('SES may invoke the unsub function only from the unsubscribe receipt rule of this account', () => {
    const unsub = child<BounceFunction>('Unsub');
    const permissions = Object.values(resourcesOf('AWS::Lambda::Permission')).filter(
      (p) => p.Properties.Principal === 'ses.amazonaws.com',
    );
    expect(permissions).toHaveLength(1);
    expect(permissions[0]!.Properties).toMatchObject({
      FunctionName: getAttArn(logicalId(unsub.function)),
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
    const sourceArn = JSON.stringify(permissions[0]!.Properties.SourceArn);
    expect(sourceArn).toContain(
      `:receipt-rule-set/${STACK_NAME}-unsubscribe:receipt-rule/${STACK_NAME}-unsubscribe-mail`,
    );
    template.hasResourceProperties('AWS::SES::ReceiptRule', {
      Rule: Match.objectLike({ Name: `${STACK_NAME}-unsubscribe-mail` }),
    });
  });
});

describe('state that survives', () => {
  it('keeps the logical IDs of every stateful or fixed-name resource (a change would replace it)', () => {
    const resources = template.toJSON().Resources as Record<string, Resource>;
    const types: Record<keyof typeof STABLE_LOGICAL_IDS, string> = {
      table: 'AWS::DynamoDB::GlobalTable',
      providerSecret: 'AWS::SecretsManager::Secret',
      unsubFailedEvents: 'AWS::SQS::Queue',
      unsubscribeRuleSet: 'AWS::SES::ReceiptRuleSet',
      shipperPolicy: 'AWS::IAM::ManagedPolicy',
      shipperRole: 'AWS::IAM::Role',
      shipperInstanceProfile: 'AWS::IAM::InstanceProfile',
      shipperUser: 'AWS::IAM::User',
    };
    for (const [key, id] of Object.entries(STABLE_LOGICAL_IDS)) {
      expect(resources[id]?.Type, key).toBe(types[key as keyof typeof types]);
    }
    // The queues of ingest and act keep theirs without a pin (same construct paths as ever).
    for (const id of [
      'IngestQueue95F6DB49',
      'IngestDeadLetterQueueE8016E9B',
      'ActQueueCC7D3C02',
      'ActDeadLetterQueue988D1B08',
    ])
      expect(resources[id]?.Type, id).toBe('AWS::SQS::Queue');
  });

  it('the table is retained and deletion-protected; the secret is retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        Replicas: [Match.objectLike({ DeletionProtectionEnabled: true })],
      }),
    });
    template.hasResource('AWS::SecretsManager::Secret', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });
});

describe('alarms reach someone', () => {
  it('the topic policy lets CloudWatch publish, for this account and these alarms only', () => {
    const topicId = Object.keys(resourcesUnder('AWS::SNS::Topic', 'Alarms'))[0]!;
    const alarmIds = Object.keys(resourcesUnder('AWS::CloudWatch::Alarm', 'Alarms')).sort();
    const policy = Object.values(resourcesUnder('AWS::SNS::TopicPolicy', 'Alarms'))[0]!;
    const statements = (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> })
      .Statement;
    const allow = statements.find((st) => st.Effect === 'Allow')!;
    expect(allow).toMatchObject({
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: 'sns:Publish',
      Resource: { Ref: topicId },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
    const arns = (allow.Condition as { ArnEquals: { 'aws:SourceArn': Array<{ 'Fn::GetAtt': string[] }> } })
      .ArnEquals['aws:SourceArn'];
    expect(arns.map((a) => a['Fn::GetAtt'][0]).sort()).toEqual(alarmIds);
    // The deny-non-TLS statement stays.
    expect(statements.some((st) => st.Effect === 'Deny')).toBe(true);
  });

  it('guardrail alarms go to their own topic: complaint rate per listed domain and other, blocks per provider and VirtualMTA', () => {
    const guardrails = resourcesUnder('AWS::CloudWatch::Alarm', 'Guardrails');
    // (news.example.com + other) × (warn, critical) + 6 mailbox providers × (vmta-1 + other)
    expect(Object.keys(guardrails)).toHaveLength(2 * 2 + 6 * 2);
    const topicId = Object.keys(resourcesUnder('AWS::SNS::Topic', 'Guardrails'))[0]!;
    for (const alarm of Object.values(guardrails))
      expect(alarm.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'deliverability@example.com',
      TopicArn: { Ref: topicId },
    });
    template.hasOutput('GuardrailTopicArn', { Value: { Ref: topicId } });
  });

  it('warns at synth only when the alarms have no subscriber', () => {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('no subscriber'));
    expect(warnings).toEqual([]);
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
  // Last on purpose: the assertions above hold either way; this one checks the handler files of functions/lambda/<fn>/.
  it('every entry of HANDLER_ENTRIES exists, so the real app bundles the real handlers', () => {
    expect(missingEntries, 'missing handler files (the tests above used a stand-in)').toEqual([]);
  });
});
