/**
 * act: the actions queue → each action against the list-manager providers. Bounded to
 * ACT_MAX_CONCURRENCY instances; each instance gets its share of every provider's `concurrency`
 * and `ratePerSecond` (ENV.ACT_INSTANCES), so together they keep the configured limits. Its timeout
 * follows the providers' worst call; waits that would outlast it become a delayed redelivery.
 */
import { Duration } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV, TABLE_ACTIONS } from '#lambda/env.ts';
import { BACKOFF_BASE_MS, BACKOFF_MAX_MS } from '#providers/provider-call-policy.ts';
import type { StackConfig } from '../config.ts';
import type { FunctionSource } from './bounce-function.ts';
import { QueueConsumerFunction } from './queue-consumer-function.ts';

/**
 * Concurrent act invocations (the event source's maxConcurrency; 2 is the least SQS allows). The
 * providers' limits are divided by it (functions/adapters/providers/act-providers.ts).
 */
const ACT_MAX_CONCURRENCY = 2;
/** Receives before an action is parked in the DLQ (the act function's backoff spans ~2.5 h). */
const ACT_MAX_RECEIVE_COUNT = 12;

interface ActFunctionProps extends FunctionSource {
  config: StackConfig['config'];
  configJson: string;
  table: ITableV2;
  secret: ISecret;
}

class ActFunction extends QueueConsumerFunction {
  constructor(scope: Construct, id: string, props: ActFunctionProps) {
    const timeout = actTimeout(props.config);
    super(scope, id, {
      ...props,
      description: 'pmta-bounce act: runs each action against the list-manager providers',
      timeout,
      memorySize: 256,
      batchSize: 10,
      maxConcurrency: ACT_MAX_CONCURRENCY,
      // A provider outage retries with the act function's backoff (30 s doubling to 15 min, set by
      // ChangeMessageVisibility): about 2.5 hours before an action is parked in the DLQ.
      maxReceiveCount: ACT_MAX_RECEIVE_COUNT,
      retentionPeriod: Duration.days(14),
    });
    this.bindTable(props.table, TABLE_ACTIONS.act).bindConfig(props.configJson).bindSecret(props.secret);
    // The act function notifies a failure as final on the queue's last receive: tell it which.
    this.function.addEnvironment(ENV.MAX_RECEIVE_COUNT, String(ACT_MAX_RECEIVE_COUNT));
    this.function.addEnvironment(ENV.ACT_INSTANCES, String(ACT_MAX_CONCURRENCY));
  }
}

/** One provider operation at its worst: every attempt times out, with the backoff in between. */
function worstCallSeconds(provider: { timeoutMs: number; maxRetries: number }): number {
  let ms = provider.timeoutMs * (provider.maxRetries + 1);
  for (let retry = 1; retry <= provider.maxRetries; retry += 1)
    ms += Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (retry - 1));
  return ms / 1000;
}

/**
 * Twice the slowest provider's worst operation plus headroom (a message may first wait for a
 * slot), within Lambda's 15 minutes. Longer waits (Retry-After, a slot that does not free in time)
 * are not slept through: the act function hands the message back with a delay instead. The
 * actions claim (960 s by default in the functions) outlasts it.
 */
function actTimeout(config: StackConfig['config']): Duration {
  const worst = Math.max(10, ...config.providers.map(worstCallSeconds));
  return Duration.seconds(Math.min(900, Math.max(60, Math.ceil(worst * 2 + 30))));
}

export type { ActFunctionProps };
export { ACT_MAX_CONCURRENCY, ACT_MAX_RECEIVE_COUNT, ActFunction, actTimeout };
