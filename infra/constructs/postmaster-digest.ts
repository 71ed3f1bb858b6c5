/**
 * Postmaster digests: the notify function, run every `notify.digestMinutes` by an EventBridge
 * schedule, mailing through SES from `notify.from` only. Digests need no provider credentials: no
 * access to the secret.
 */
import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import { TABLE_ACTIONS } from '#lambda/env.ts';
import { BounceFunction, type FunctionSource } from './bounce-function.ts';

interface PostmasterDigestProps extends FunctionSource {
  notify: { from: string; to: string; digestMinutes: number };
  configJson: string;
  table: ITableV2;
}

class PostmasterDigest extends BounceFunction {
  constructor(scope: Construct, id: string, props: PostmasterDigestProps) {
    super(scope, id, {
      ...props,
      description: 'pmta-bounce notify: mails the postmaster a digest of complaints and failures',
      timeout: Duration.minutes(1),
      memorySize: 256,
    });
    const { from, to, digestMinutes } = props.notify;
    // In the SES sandbox the recipient identity is authorized too; outside it only the sender.
    this.bindTable(props.table, TABLE_ACTIONS.notify)
      .bindConfig(props.configJson)
      .bindSesSender(from, [from, domainOf(from), to, domainOf(to)]);
    new Rule(this, 'Schedule', {
      description: `pmta-bounce postmaster digest every ${digestMinutes} minutes`,
      schedule: Schedule.rate(Duration.minutes(digestMinutes)),
      targets: [new LambdaFunction(this.function, { retryAttempts: 2 })],
    });
  }
}

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

export type { PostmasterDigestProps };
export { PostmasterDigest };
