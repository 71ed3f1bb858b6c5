/**
 * The one-click unsubscribe endpoint in AWS (docs/unsubscribe.md, "In AWS"): the unsub-http
 * function behind a Lambda Function URL. A Function URL rather than an HTTP API: one public HTTPS
 * endpoint with one route needs no API Gateway stage, authorizer or per-request charge, and the
 * function does its own rate limiting (DynamoDB counters); a custom domain goes in front with
 * CloudFront when wanted. Reserved concurrency caps what a flood can cost and protects the account's
 * other functions; over it Lambda answers 429 itself.
 */
import { CfnOutput, Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { FunctionUrlAuthType, InvokeMode } from 'aws-cdk-lib/aws-lambda';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_ACTIONS } from '#lambda/env.ts';
import { BounceFunction, type FunctionSource } from './bounce-function.ts';

interface OneClickEndpointProps extends FunctionSource {
  table: ITableV2;
  actionsQueue: IQueue;
  configJson: string;
  /** The signing-key secret (never the provider secret). */
  signingSecret?: ISecret | undefined;
  /** Instances at most: a flood beyond it gets Lambda's own 429. */
  reservedConcurrency?: number | undefined;
}

class OneClickEndpoint extends BounceFunction {
  readonly url: string;

  constructor(scope: Construct, id: string, props: OneClickEndpointProps) {
    super(scope, id, {
      ...props,
      description: 'pmta-bounce unsub-http: one-click unsubscribe (RFC 8058) into actions',
      timeout: Duration.seconds(5),
      memorySize: 256,
    });
    // State item and action only: no provider credentials, so no access to the provider secret.
    this.bindTable(props.table, TABLE_ACTIONS['unsub-http'])
      .bindActionsQueue(props.actionsQueue)
      .bindConfig(props.configJson);
    if (props.signingSecret) this.bindSigningSecret(props.signingSecret);
    const cfn = this.function.node.defaultChild as { reservedConcurrentExecutions?: number };
    cfn.reservedConcurrentExecutions = props.reservedConcurrency ?? 20;
    const url = this.function.addFunctionUrl({
      authType: FunctionUrlAuthType.NONE,
      invokeMode: InvokeMode.BUFFERED,
    });
    this.url = url.url;
    new CfnOutput(scope, 'OneClickUrl', {
      value: url.url,
      description: 'unsubscribe.oneClick.baseUrl (without the trailing /): https://<this>u/{token}',
    });
  }
}

export type { OneClickEndpointProps };
export { OneClickEndpoint };
