/**
 * A topic policy replaces SNS's default one, and `enforceSSL` writes one: without this statement
 * CloudWatch could not publish and no alarm would reach anyone. Only this account's alarms in
 * `alarms` may publish; the list is read at synth, so alarms added after the call are included.
 */
import { Aws, Lazy } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Topic } from 'aws-cdk-lib/aws-sns';

function allowAlarmsToPublish(topic: Topic, alarms: readonly Alarm[]): void {
  topic.addToResourcePolicy(
    new PolicyStatement({
      sid: 'AllowCloudWatchAlarmsToPublish',
      effect: Effect.ALLOW,
      principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: {
        StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
        ArnEquals: { 'aws:SourceArn': Lazy.list({ produce: () => alarms.map((a) => a.alarmArn) }) },
      },
    }),
  );
}

export { allowAlarmsToPublish };
