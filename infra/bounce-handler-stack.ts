/**
 * The whole AWS deployment: records queue → ingest → actions queue → act → providers, the SES
 * unsubscribe path, postmaster digests, the shipper's identity, the dashboard and the alarms.
 * Everything comes from typed props; the stack never reads context or the environment.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { AttributeType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import {
  Effect,
  InstanceProfile,
  ManagedPolicy,
  PolicyStatement,
  Role,
  ServicePrincipal,
  User,
} from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { ReceiptRuleSet } from 'aws-cdk-lib/aws-ses';
import { Lambda as LambdaAction, LambdaInvocationType } from 'aws-cdk-lib/aws-ses-actions';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_SCHEMA } from '#adapters/dynamodb/table-schema.ts';
import { ENV, HANDLER_ENTRIES } from '#lambda/env.ts';
import type { StackConfig } from './config.ts';
import { BounceFunction } from './constructs/bounce-function.ts';
import { OperationsAlarms } from './constructs/operations-alarms.ts';
import { OperationsDashboard } from './constructs/operations-dashboard.ts';
import { QueueConsumerFunction } from './constructs/queue-consumer-function.ts';

/** Repository root: entries in HANDLER_ENTRIES are relative to it. */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Concurrent act invocations (the event source's maxConcurrency; 2 is the least SQS allows). Each
 * invocation runs up to `concurrency` calls per provider, so a provider sees at most twice that.
 */
const ACT_MAX_CONCURRENCY = 2;
/** Receives before an action is parked in the DLQ (the act function's backoff spans ~2.5 h). */
const ACT_MAX_RECEIVE_COUNT = 12;

interface BounceHandlerStackProps extends StackProps {
  stackConfig: StackConfig;
  /** Log retention of every function (default: one month). */
  logRetention?: RetentionDays;
  /**
   * TESTS ONLY: bundle this handler file for every function instead of HANDLER_ENTRIES (relative
   * to the repository root, or absolute). The app never sets it.
   */
  handlerEntryOverride?: string;
}

class BounceHandlerStack extends Stack {
  readonly recordsQueue: IQueue;
  readonly actionsQueue: IQueue;
  readonly shipperPolicy: ManagedPolicy;

  constructor(scope: Construct, id: string, props: BounceHandlerStackProps) {
    super(scope, id, props);
    const { config, configJson, secretNames } = props.stackConfig;
    const logRetention = props.logRetention ?? RetentionDays.ONE_MONTH;
    const entry = (name: keyof typeof HANDLER_ENTRIES): string => {
      const file = props.handlerEntryOverride ?? HANDLER_ENTRIES[name];
      return isAbsolute(file) ? file : join(PROJECT_ROOT, file);
    };
    const common = { projectRoot: PROJECT_ROOT, logRetention };

    // --- State -------------------------------------------------------------------------------
    const table = new TableV2(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: AttributeType.STRING },
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Suppressions are the product's memory: keep them when the stack is deleted.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // Provider credentials: one JSON object {"NAME": "value"} for every ${NAME} of the config file.
    // The stack never sets the value (it starts as a generated placeholder); operators put it.
    const secret = new Secret(this, 'ProviderSecret', {
      description:
        'pmta-bounce provider credentials: JSON object {"NAME": "value"} for each ${NAME} in the config',
      generateSecretString: {
        secretStringTemplate: '{}',
        generateStringKey: 'unset',
        excludePunctuation: true,
      },
    });
    Validations.of(secret).acknowledge({
      id: 'AwsSolutions-SMG4',
      reason:
        'Holds API keys issued by third-party list managers (MailWizz, Interspire, webhooks); they ' +
        'can only be rotated in those products, by an operator, so no rotation Lambda can exist.',
    });

    // --- Functions ---------------------------------------------------------------------------
    const act = new QueueConsumerFunction(this, 'Act', {
      ...common,
      entry: entry('act'),
      description: 'pmta-bounce act: runs each action against the list-manager providers',
      timeout: actTimeout(config),
      memorySize: 256,
      batchSize: 10,
      maxConcurrency: ACT_MAX_CONCURRENCY,
      // A provider outage retries with the act function's backoff (30 s doubling to 15 min, set by
      // ChangeMessageVisibility): about 2.5 hours before an action is parked in the DLQ.
      maxReceiveCount: ACT_MAX_RECEIVE_COUNT,
      retentionPeriod: Duration.days(14),
    });
    act.bindTable(table).bindConfig(configJson).bindSecret(secret);
    // The act function notifies a failure as final on the queue's last receive: tell it which.
    act.function.addEnvironment(ENV.MAX_RECEIVE_COUNT, String(ACT_MAX_RECEIVE_COUNT));
    this.actionsQueue = act.queue;

    const ingest = new QueueConsumerFunction(this, 'Ingest', {
      ...common,
      entry: entry('ingest'),
      description: 'pmta-bounce ingest: parses accounting records, decides, enqueues actions',
      // One records message can hold ~10k records (1 MiB gzip'd): one message per invocation, with
      // time to spare, so a message is never redelivered while it is still being ingested.
      timeout: Duration.minutes(5),
      memorySize: 1024,
      batchSize: 1,
      maxReceiveCount: 5,
    });
    ingest.bindTable(table).bindActionsQueue(act.queue).bindConfig(configJson).bindSecret(secret);
    this.recordsQueue = ingest.queue;

    const workQueues: Record<string, IQueue> = { Records: ingest.queue, Actions: act.queue };
    const deadLetterQueues: Record<string, IQueue> = {
      Records: ingest.deadLetterQueue,
      Actions: act.deadLetterQueue,
    };
    const functions: Record<string, BounceFunction> = { Ingest: ingest, Act: act };

    // --- Unsubscribe mail through SES ---------------------------------------------------------
    let ruleSetName: string | undefined;
    if (config.unsubscribe.domains.length > 0) {
      const unsub = new BounceFunction(this, 'Unsub', {
        ...common,
        entry: entry('unsub'),
        description: 'pmta-bounce unsub: turns SES inbound unsubscribe mail into actions',
        timeout: Duration.seconds(30),
        memorySize: 256,
      });
      // unsub reads only routing keys of providers: no credentials, so no access to the secret.
      unsub.bindTable(table).bindActionsQueue(act.queue).bindConfig(configJson);
      // SES invokes asynchronously: after Lambda's retries the event lands here, never lost.
      const unsubDlq = new Queue(this, 'UnsubFailedEvents', {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(unsubDlq).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the dead-letter destination (Lambda on-failure destination) of the ' +
          'asynchronously invoked unsub function; it has no consumer that could fail.',
      });
      unsub.function.configureAsyncInvoke({
        onFailure: new SqsDestination(unsubDlq),
        retryAttempts: 2,
        maxEventAge: Duration.hours(6),
      });
      deadLetterQueues.Unsub = unsubDlq;
      functions.Unsub = unsub;

      ruleSetName = `${this.stackName}-unsubscribe`;
      const ruleSet = new ReceiptRuleSet(this, 'UnsubscribeRuleSet', { receiptRuleSetName: ruleSetName });
      ruleSet.addRule('UnsubscribeRule', {
        recipients: [...config.unsubscribe.domains],
        scanEnabled: true,
        actions: [new LambdaAction({ function: unsub.function, invocationType: LambdaInvocationType.EVENT })],
      });
    }

    // --- Postmaster digests -------------------------------------------------------------------
    if (config.notify) {
      const notify = new BounceFunction(this, 'Notify', {
        ...common,
        entry: entry('notify'),
        description: 'pmta-bounce notify: mails the postmaster a digest of complaints and failures',
        timeout: Duration.minutes(1),
        memorySize: 256,
      });
      const { from, to, digestMinutes } = config.notify;
      // In the SES sandbox the recipient identity is authorized too; outside it only the sender.
      notify
        .bindTable(table)
        .bindConfig(configJson) // digests need no provider credentials: no access to the secret
        .bindSesSender(from, [from, domainOf(from), to, domainOf(to)]);
      new Rule(this, 'NotifySchedule', {
        description: `pmta-bounce postmaster digest every ${digestMinutes} minutes`,
        schedule: Schedule.rate(Duration.minutes(digestMinutes)),
        targets: [new LambdaFunction(notify.function, { retryAttempts: 2 })],
      });
      functions.Notify = notify;
    }

    // --- The shipper's identity: sqs:SendMessage on the records queue, nothing else -----------
    this.shipperPolicy = new ManagedPolicy(this, 'ShipperPolicy', {
      description: 'pmta-shipper: send accounting records to the records queue, nothing else',
      statements: [
        new PolicyStatement({
          effect: Effect.ALLOW,
          actions: ['sqs:SendMessage'],
          resources: [ingest.queue.queueArn],
        }),
      ],
    });
    // On EC2: attach the instance profile. Elsewhere: create an access key for the user (docs).
    const shipperRole = new Role(this, 'ShipperRole', {
      assumedBy: new ServicePrincipal('ec2.amazonaws.com'),
      description: 'pmta-shipper on an EC2 PowerMTA host (instance profile)',
      managedPolicies: [this.shipperPolicy],
    });
    const shipperProfile = new InstanceProfile(this, 'ShipperInstanceProfile', { role: shipperRole });
    const shipperUser = new User(this, 'ShipperUser', { managedPolicies: [this.shipperPolicy] });

    // --- Observability ------------------------------------------------------------------------
    const providerIds = config.providers.map((p) => p.id);
    const alarmSettings = config.alarms ?? {
      noRecordsHours: 6,
      oldestMessageMinutes: 30,
      providerErrorPercent: 10,
    };
    const alarms = new OperationsAlarms(this, 'Alarms', {
      workQueues,
      deadLetterQueues,
      recordsQueue: ingest.queue,
      functions: Object.fromEntries(Object.entries(functions).map(([k, f]) => [k, f.function])),
      providerIds,
      emails: alarmSettings.email ?? [],
      noRecordsHours: alarmSettings.noRecordsHours,
      oldestMessageMinutes: alarmSettings.oldestMessageMinutes,
      providerErrorPercent: alarmSettings.providerErrorPercent,
    });
    new OperationsDashboard(this, 'Operations', {
      dashboardName: this.stackName,
      workQueues,
      deadLetterQueues,
      providerIds,
      alarms: alarms.alarms,
    });

    // --- Outputs ------------------------------------------------------------------------------
    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    out('RecordsQueueUrl', ingest.queue.queueUrl, 'pmta-shipper --queue-url');
    out('ShipperPolicyArn', this.shipperPolicy.managedPolicyArn, 'Only sqs:SendMessage on the records queue');
    out('ShipperRoleArn', shipperRole.roleArn, 'Role of the EC2 instance profile for pmta-shipper');
    out('ShipperInstanceProfileName', shipperProfile.instanceProfileName, 'Attach to an EC2 PowerMTA host');
    out('ShipperUserArn', shipperUser.userArn, 'IAM user for pmta-shipper off EC2');
    out('ShipperUserName', shipperUser.userName, 'aws iam create-access-key --user-name <this>');
    out('ProviderSecretArn', secret.secretArn, 'Put the provider credentials here as a JSON object');
    out(
      'ProviderSecretKeys',
      secretNames.length > 0 ? secretNames.join(',') : '(none)',
      'Keys the provider secret must hold (each ${NAME} of the config file)',
    );
    out('TableName', table.tableName, 'DynamoDB table of suppressions, counters and audit');
    out('AlarmTopicArn', alarms.topic.topicArn, 'SNS topic of the alarms');
    out(
      'DashboardUrl',
      `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.stackName}`,
      'CloudWatch dashboard',
    );
    if (ruleSetName) {
      out(
        'ReceiptRuleSetName',
        ruleSetName,
        'Activate once: aws ses set-active-receipt-rule-set --rule-set-name <this>',
      );
    }
  }
}

/**
 * The act function retries provider calls in-process (timeoutMs per attempt, maxRetries), and a
 * message may first wait for another one's call to free its provider's concurrency slot: twice the
 * slowest provider's worst case plus headroom, within Lambda's 15 minutes. The actions claim
 * (960 s by default in the functions) outlasts it.
 */
function actTimeout(config: StackConfig['config']): Duration {
  const worstCallSeconds = Math.max(
    10,
    ...config.providers.map((p) => (p.timeoutMs / 1000) * (p.maxRetries + 1)),
  );
  return Duration.seconds(Math.min(900, Math.max(60, Math.ceil(worstCallSeconds * 2 + 30))));
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

export type { BounceHandlerStackProps };
export { ACT_MAX_CONCURRENCY, actTimeout, BounceHandlerStack, PROJECT_ROOT };
