/**
 * Unsubscribe mail through SES: the unsub function, the receipt rule set whose one rule (every
 * `unsubscribe.domains`, spam and virus scanning on) invokes it, SES's permission to do so from
 * that rule only, and the queue that keeps the events it could not handle. The rule set is created
 * inactive: activating it is the operator's step (docs/deploy-aws.md step 5).
 */
import { Annotations, Aws, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { ReceiptRuleSet } from 'aws-cdk-lib/aws-ses';
import { Lambda as LambdaAction, LambdaInvocationType } from 'aws-cdk-lib/aws-ses-actions';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_ACTIONS } from '#lambda/env.ts';
import { pinLogicalId } from '../stable-logical-ids.ts';
import { BounceFunction, type FunctionSource } from './bounce-function.ts';

/**
 * Regions whose SES offers email receiving, from the "Email receiving endpoints" table of the AWS
 * General Reference (SES endpoints and quotas). Elsewhere synth warns: the list may lag behind AWS.
 */
const SES_RECEIVING_REGIONS: readonly string[] = ['us-east-1', 'us-west-2', 'eu-west-1'];

interface UnsubscribeMailProps extends FunctionSource {
  domains: readonly string[];
  configJson: string;
  table: ITableV2;
  actionsQueue: IQueue;
}

class UnsubscribeMail extends BounceFunction {
  readonly ruleSetName: string;
  readonly failedEvents: Queue;

  constructor(scope: Construct, id: string, props: UnsubscribeMailProps) {
    super(scope, id, {
      ...props,
      description: 'pmta-bounce unsub: turns SES inbound unsubscribe mail into actions',
      timeout: Duration.seconds(30),
      memorySize: 256,
    });
    // unsub reads only routing keys of providers: no credentials, so no access to the secret.
    this.bindTable(props.table, TABLE_ACTIONS.unsub)
      .bindActionsQueue(props.actionsQueue)
      .bindConfig(props.configJson);
    this.failedEvents = this.#failedEventsQueue();
    const stack = Stack.of(this);
    this.ruleSetName = `${stack.stackName}-unsubscribe`;
    const ruleName = `${stack.stackName}-unsubscribe-mail`;
    // Before the rule: SES checks at rule creation that it may invoke the function. The receipt
    // rule's ARN is built from its name, so the permission names the one rule allowed to invoke.
    this.function.addPermission('AllowSes', {
      action: 'lambda:InvokeFunction',
      principal: new ServicePrincipal('ses.amazonaws.com'),
      sourceAccount: Aws.ACCOUNT_ID,
      sourceArn: stack.formatArn({
        service: 'ses',
        resource: 'receipt-rule-set',
        resourceName: `${this.ruleSetName}:receipt-rule/${ruleName}`,
      }),
    });
    const ruleSet = new ReceiptRuleSet(this, 'RuleSet', { receiptRuleSetName: this.ruleSetName });
    pinLogicalId(ruleSet, 'unsubscribeRuleSet');
    ruleSet.addRule('UnsubscribeRule', {
      receiptRuleName: ruleName,
      recipients: [...props.domains],
      scanEnabled: true,
      // The action finds the AllowSes permission above and adds no broader one.
      actions: [new LambdaAction({ function: this.function, invocationType: LambdaInvocationType.EVENT })],
    });
    checkReceivingRegion(this, stack.region);
  }

  /** SES invokes asynchronously: after Lambda's retries the event lands here, never lost. */
  #failedEventsQueue(): Queue {
    const queue = new Queue(this, 'FailedEvents', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    pinLogicalId(queue, 'unsubFailedEvents');
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter destination (Lambda on-failure destination) of the ' +
        'asynchronously invoked unsub function; it has no consumer that could fail.',
    });
    this.function.configureAsyncInvoke({
      onFailure: new SqsDestination(queue),
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
    });
    return queue;
  }
}

function checkReceivingRegion(scope: Construct, region: string): void {
  if (Token.isUnresolved(region)) {
    Annotations.of(scope).addWarningV2(
      'pmta-bounce:ses-receiving-region',
      'unsubscribe.domains is set but the region is not known at synth (set CDK_DEFAULT_REGION): SES ' +
        `email receiving is offered in ${SES_RECEIVING_REGIONS.join(', ')} (docs/deploy-aws.md, Prerequisites)`,
    );
  } else if (!SES_RECEIVING_REGIONS.includes(region)) {
    Annotations.of(scope).addWarningV2(
      'pmta-bounce:ses-receiving-region',
      `unsubscribe.domains is set but SES email receiving is not known to be offered in ${region} ` +
        `(known: ${SES_RECEIVING_REGIONS.join(', ')}); check "Email receiving endpoints" in the AWS ` +
        'General Reference, or deploy to one of those regions',
    );
  }
}

export type { UnsubscribeMailProps };
export { checkReceivingRegion, SES_RECEIVING_REGIONS, UnsubscribeMail };
