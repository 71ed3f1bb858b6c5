/**
 * The whole AWS deployment, composed of named constructs: the state table and the provider secret,
 * ingest (records queue → decisions) and act (actions queue → providers), unsubscribe mail through
 * SES, postmaster digests, the shipper's identity, the alarms and the dashboard. Everything comes
 * from typed props; the stack never reads context or the environment.
 */
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Aws, CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { HANDLER_ENTRIES } from '#lambda/env.ts';
import type { StackConfig } from './config.ts';
import { ActFunction } from './constructs/act-function.ts';
import type { FunctionSource } from './constructs/bounce-function.ts';
import { DeliverabilityGuardrails } from './constructs/deliverability-guardrails.ts';
import { IngestFunction } from './constructs/ingest-function.ts';
import { OneClickEndpoint } from './constructs/one-click-endpoint.ts';
import { OperationsAlarms } from './constructs/operations-alarms.ts';
import { OperationsDashboard } from './constructs/operations-dashboard.ts';
import { PostmasterDigest } from './constructs/postmaster-digest.ts';
import { ProviderSecret } from './constructs/provider-secret.ts';
import { ShipperIdentity } from './constructs/shipper-identity.ts';
import { StateTable } from './constructs/state-table.ts';
import { UnsubscribeMail } from './constructs/unsubscribe-mail.ts';

/** Repository root: entries in HANDLER_ENTRIES are relative to it. */
const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `aws` settings of the config file when it has none. */
const DEFAULT_AWS_SETTINGS = { ingestMaxConcurrency: 10, shipperUser: false } as const;
/** `alarms` settings of the config file when it has none. */
const DEFAULT_ALARM_SETTINGS = { noRecordsHours: 6, oldestMessageMinutes: 30, providerErrorPercent: 10 };

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

/** The functions and queues the observability constructs watch, by a readable name. */
interface Watched {
  functions: Record<string, IFunction>;
  workQueues: Record<string, IQueue>;
  deadLetterQueues: Record<string, IQueue>;
}

/** The signing-key secret: {"NAME": "value"} for each `${NAME}` of unsubscribe.signing. */
function signingKeySecret(scope: Construct): Secret {
  const secret = new Secret(scope, 'SigningSecret', {
    description:
      'pmta-bounce unsubscribe signing keys: JSON object {"NAME": "value"} for each ${NAME} in unsubscribe.signing',
    generateSecretString: {
      secretStringTemplate: '{}',
      generateStringKey: 'unset',
      excludePunctuation: true,
    },
  });
  Validations.of(secret).acknowledge({
    id: 'AwsSolutions-SMG4',
    reason:
      'Signing keys rotate by adding a key to unsubscribe.signing and retiring the old one after its ' +
      'mails are old (docs/unsubscribe.md): an operator step in the configuration, not a rotation Lambda.',
  });
  return secret;
}

class BounceHandlerStack extends Stack {
  readonly recordsQueue: IQueue;
  readonly actionsQueue: IQueue;
  readonly shipper: ShipperIdentity;

  constructor(scope: Construct, id: string, props: BounceHandlerStackProps) {
    super(scope, id, props);
    const { config, configJson } = props.stackConfig;
    const aws = { ...DEFAULT_AWS_SETTINGS, ...config.aws };
    const state = new StateTable(this, 'State', { existingTableName: aws.tableName });
    const secret = new ProviderSecret(this, 'ProviderSecret').secret;
    const source = (name: keyof typeof HANDLER_ENTRIES) => functionSource(name, props);
    const { table } = state;

    const act = new ActFunction(this, 'Act', { ...source('act'), config, configJson, table, secret });
    const ingest = new IngestFunction(this, 'Ingest', {
      ...source('ingest'),
      configJson,
      table,
      actionsQueue: act.queue,
      maxConcurrency: aws.ingestMaxConcurrency,
    });
    this.recordsQueue = ingest.queue;
    this.actionsQueue = act.queue;
    const watched: Watched = {
      functions: { Ingest: ingest.function, Act: act.function },
      workQueues: { Records: ingest.queue, Actions: act.queue },
      deadLetterQueues: { Records: ingest.deadLetterQueue, Actions: act.deadLetterQueue },
    };

    // The signing keys of unsubscribe addresses and links: their own secret, read by unsub and
    // unsub-http only (act keeps the provider secret to itself).
    const signingSecret = config.unsubscribe.signing ? signingKeySecret(this) : undefined;
    let unsubscribe: UnsubscribeMail | undefined;
    if (config.unsubscribe.domains.length > 0) {
      unsubscribe = new UnsubscribeMail(this, 'Unsub', {
        ...source('unsub'),
        domains: config.unsubscribe.domains,
        configJson,
        table,
        actionsQueue: act.queue,
      });
      if (signingSecret) unsubscribe.bindSigningSecret(signingSecret);
      watched.functions.Unsub = unsubscribe.function;
      watched.deadLetterQueues.Unsub = unsubscribe.failedEvents;
    }
    if (config.unsubscribe.oneClick.functionUrl) {
      const oneClick = new OneClickEndpoint(this, 'OneClick', {
        ...source('unsub-http'),
        configJson,
        table,
        actionsQueue: act.queue,
        signingSecret,
      });
      watched.functions.UnsubHttp = oneClick.function;
    }
    if (config.notify) {
      const digest = new PostmasterDigest(this, 'Notify', {
        ...source('notify'),
        notify: config.notify,
        configJson,
        table,
      });
      watched.functions.Notify = digest.function;
    }
    this.shipper = new ShipperIdentity(this, 'Shipper', {
      recordsQueue: ingest.queue,
      user: aws.shipperUser,
    });
    const alarms = this.#observability(config, watched);
    this.#outputs({ props, table, secret, alarms, ruleSetName: unsubscribe?.ruleSetName });
  }

  #observability(config: StackConfig['config'], watched: Watched): OperationsAlarms {
    const providerIds = config.providers.map((p) => p.id);
    const settings = config.alarms ?? DEFAULT_ALARM_SETTINGS;
    const alarms = new OperationsAlarms(this, 'Alarms', {
      ...watched,
      recordsQueue: this.recordsQueue,
      providerIds,
      emails: config.alarms?.email ?? [],
      noRecordsHours: settings.noRecordsHours,
      oldestMessageMinutes: settings.oldestMessageMinutes,
      providerErrorPercent: settings.providerErrorPercent,
    });
    const operations = new OperationsDashboard(this, 'Operations', {
      dashboardName: this.stackName,
      workQueues: watched.workQueues,
      deadLetterQueues: watched.deadLetterQueues,
      providerIds,
      alarms: alarms.alarms,
    });
    const guardrails = new DeliverabilityGuardrails(this, 'Guardrails', {
      guardrails: config.guardrails,
      emails: config.guardrails.email ?? config.alarms?.email ?? [],
      dashboard: operations.dashboard,
      providerIds,
    });
    new CfnOutput(this, 'GuardrailTopicArn', {
      value: guardrails.topic.topicArn,
      description: 'SNS topic of the deliverability guardrail alarms (complaint rate, block spikes)',
    });
    return alarms;
  }

  #outputs(o: {
    props: BounceHandlerStackProps;
    table: ITableV2;
    secret: ISecret;
    alarms: OperationsAlarms;
    ruleSetName: string | undefined;
  }): void {
    const out = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    const { secretNames } = o.props.stackConfig;
    const shipper = this.shipper;
    out('RecordsQueueUrl', this.recordsQueue.queueUrl, 'pmta-shipper --queue-url');
    out(
      'ActionsQueueUrl',
      this.actionsQueue.queueUrl,
      'pmta-bounce suppressions import --apply / undo with --table: --actions-queue',
    );
    out('ShipperPolicyArn', shipper.policy.managedPolicyArn, 'Only sqs:SendMessage on the records queue');
    out('ShipperRoleArn', shipper.role.roleArn, 'Role of the EC2 instance profile for pmta-shipper');
    out(
      'ShipperInstanceProfileName',
      shipper.instanceProfile.instanceProfileName,
      'Attach to an EC2 PowerMTA host',
    );
    if (shipper.user) {
      out('ShipperUserArn', shipper.user.userArn, 'IAM user for pmta-shipper (aws.shipperUser)');
      out('ShipperUserName', shipper.user.userName, 'aws iam create-access-key --user-name <this>');
    }
    out('ProviderSecretArn', o.secret.secretArn, 'Put the provider credentials here as a JSON object');
    out(
      'ProviderSecretKeys',
      secretNames.length > 0 ? secretNames.join(',') : '(none)',
      'Keys the provider secret must hold (each ${NAME} of the config file)',
    );
    out('TableName', o.table.tableName, 'DynamoDB table of suppressions, counters and audit');
    out('AlarmTopicArn', o.alarms.topic.topicArn, 'SNS topic of the alarms');
    out(
      'DashboardUrl',
      `https://console.aws.amazon.com/cloudwatch/home?region=${Aws.REGION}#dashboards:name=${this.stackName}`,
      'CloudWatch dashboard',
    );
    if (o.ruleSetName) {
      out('ReceiptRuleSetName', o.ruleSetName, 'Activate once (docs/deploy-aws.md step 5)');
    }
  }
}

/** A function's handler file (HANDLER_ENTRIES, or the tests' stand-in) and the shared settings. */
function functionSource(name: keyof typeof HANDLER_ENTRIES, props: BounceHandlerStackProps): FunctionSource {
  const file = props.handlerEntryOverride ?? HANDLER_ENTRIES[name];
  return {
    entry: isAbsolute(file) ? file : join(PROJECT_ROOT, file),
    projectRoot: PROJECT_ROOT,
    logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
  };
}

export type { BounceHandlerStackProps };
export { BounceHandlerStack, PROJECT_ROOT };
