/**
 * ingest: the records queue (envelopes from pmta-shipper) → decisions, state, actions. It needs
 * routing, not credentials: no access to the provider secret. At most `aws.ingestMaxConcurrency`
 * instances, so a spool flush cannot take the account's whole Lambda concurrency or flood the table.
 */
import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { TABLE_ACTIONS } from '#lambda/env.ts';
import type { FunctionSource } from './bounce-function.ts';
import { QueueConsumerFunction } from './queue-consumer-function.ts';

interface IngestFunctionProps extends FunctionSource {
  configJson: string;
  table: ITableV2;
  actionsQueue: IQueue;
  maxConcurrency: number;
}

class IngestFunction extends QueueConsumerFunction {
  constructor(scope: Construct, id: string, props: IngestFunctionProps) {
    super(scope, id, {
      ...props,
      description: 'pmta-bounce ingest: parses accounting records, decides, enqueues actions',
      // One records message can hold ~10k records (1 MiB gzip'd): one message per invocation, with
      // time to spare, so a message is never redelivered while it is still being ingested.
      timeout: Duration.minutes(5),
      memorySize: 1024,
      batchSize: 1,
      maxConcurrency: props.maxConcurrency,
      maxReceiveCount: 5,
    });
    this.bindTable(props.table, TABLE_ACTIONS.ingest)
      .bindActionsQueue(props.actionsQueue)
      .bindConfig(props.configJson);
  }
}

export type { IngestFunctionProps };
export { IngestFunction };
