/**
 * Claims on actions, as Powertools idempotency does it: claim (INPROGRESS with an expiry) → run →
 * complete (COMPLETED, kept for a day) or release (deleted). A claim that is INPROGRESS and not
 * expired belongs to another invocation; an expired one (a crashed run) may be taken over.
 * Only conditional single-item writes: works on dynalite.
 *
 * Item: pk `claim#<actionId>` sk `claim`: status, token (the SQS message id), providers, expiresAt (s).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StoreError } from '#core/errors.ts';

const ClaimStatus = { inProgress: 'INPROGRESS', completed: 'COMPLETED' } as const;
type ClaimStatus = (typeof ClaimStatus)[keyof typeof ClaimStatus];

const ClaimResult = { claimed: 'claimed', inProgress: 'in-progress' } as const;
type ClaimResult = (typeof ClaimResult)[keyof typeof ClaimResult];

/** How long a COMPLETED claim is kept (TTL), for the operator's benefit only. */
const COMPLETED_TTL_SECONDS = 86_400;

interface ActionClaims {
  claim(actionId: string, token: string, providers: readonly string[], nowMs: number): Promise<ClaimResult>;
  complete(actionId: string, token: string, nowMs: number): Promise<void>;
  release(actionId: string, token: string): Promise<void>;
}

interface DynamoDbActionClaimsOptions {
  client: DynamoDBDocumentClient;
  table: string;
  /** INPROGRESS expiry: longer than the function timeout, so a live run is never taken over. */
  inProgressSeconds: number;
}

const key = (actionId: string) => ({ pk: `claim#${actionId}`, sk: 'claim' });

function createDynamoDbActionClaims(options: DynamoDbActionClaimsOptions): ActionClaims {
  const { client, table } = options;
  const conditional = async (run: () => Promise<unknown>): Promise<boolean> => {
    try {
      await run();
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StoreError('action claim write failed', { cause: error });
    }
  };
  return {
    async claim(actionId, token, providers, nowMs) {
      const now = Math.floor(nowMs / 1000);
      // COMPLETED does not block: which providers still need the action is the suppression
      // state's to say (a later action for the same subject may carry a provider added since).
      const ok = await conditional(() =>
        client.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...key(actionId),
              status: ClaimStatus.inProgress,
              token,
              providers: [...providers],
              expiresAt: now + options.inProgressSeconds,
            },
            ConditionExpression:
              'attribute_not_exists(pk) OR #s <> :running OR expiresAt < :now OR #t = :token',
            ExpressionAttributeNames: { '#s': 'status', '#t': 'token' },
            ExpressionAttributeValues: { ':running': ClaimStatus.inProgress, ':now': now, ':token': token },
          }),
        ),
      );
      return ok ? ClaimResult.claimed : ClaimResult.inProgress;
    },
    async complete(actionId, token, nowMs) {
      await conditional(() =>
        client.send(
          new UpdateCommand({
            TableName: table,
            Key: key(actionId),
            UpdateExpression: 'SET #s = :done, expiresAt = :exp',
            ConditionExpression: '#t = :token',
            ExpressionAttributeNames: { '#s': 'status', '#t': 'token' },
            ExpressionAttributeValues: {
              ':done': ClaimStatus.completed,
              ':exp': Math.floor(nowMs / 1000) + COMPLETED_TTL_SECONDS,
              ':token': token,
            },
          }),
        ),
      );
    },
    async release(actionId, token) {
      // Only our own claim: a run that outlived its expiry must not delete its successor's.
      await conditional(() =>
        client.send(
          new DeleteCommand({
            TableName: table,
            Key: key(actionId),
            ConditionExpression: '#t = :token',
            ExpressionAttributeNames: { '#t': 'token' },
            ExpressionAttributeValues: { ':token': token },
          }),
        ),
      );
    },
  };
}

export type { ActionClaims, DynamoDbActionClaimsOptions };
export { ClaimResult, ClaimStatus, createDynamoDbActionClaims };
