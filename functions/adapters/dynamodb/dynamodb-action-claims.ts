/**
 * Claims on actions, as Powertools idempotency does it: claim (with an expiry) → run → complete or
 * release. A claim that is held and not expired belongs to another invocation; an expired one (a
 * crashed run) may be taken over. Only conditional single-item writes: works on dynalite.
 *
 * The claim lives on the subject's suppression state item (pk `sub#<subject>` sk `state`:
 * claimToken = the caller's per-delivery token, claimExpiresAt in s), because an action's id is its subject
 * (decide-records) and act needs that item anyway: the claim write returns the providers already
 * done (no separate read), and finishing records the provider outcomes and drops the claim in the
 * same write. Three requests per action (claim, audit, finish) instead of five.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  UpdateCommand,
  type UpdateCommandInput,
  type UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { StoreError } from '#core/errors.ts';
import { type ActionClaims, ClaimResult, type ProviderMark } from '#core/ports.ts';

interface DynamoDbActionClaimsOptions {
  client: DynamoDBDocumentClient;
  table: string;
  /** Claim expiry: longer than the function timeout, so a live run is never taken over. */
  inProgressSeconds: number;
}

const key = (subject: string) => ({ pk: `sub#${subject}`, sk: 'state' });

function setToList(value: unknown): string[] {
  if (value instanceof Set) return [...(value as Set<string>)];
  return Array.isArray(value) ? (value as string[]) : [];
}

const NAMES = { '#t': 'claimToken', '#e': 'claimExpiresAt' };

class DynamoDbActionClaims implements ActionClaims {
  readonly #client: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #inProgressSeconds: number;

  constructor(options: DynamoDbActionClaimsOptions) {
    this.#client = options.client;
    this.#table = options.table;
    this.#inProgressSeconds = options.inProgressSeconds;
  }

  async claim(actionId: string, token: string, _providers: readonly string[], nowMs: number) {
    return (await this.claimReading(actionId, token, nowMs)).claim;
  }

  async complete(actionId: string, token: string): Promise<void> {
    await this.#drop(actionId, token);
  }

  async release(actionId: string, token: string): Promise<void> {
    await this.#drop(actionId, token);
  }

  async claimReading(subject: string, token: string, nowMs: number) {
    const now = Math.floor(nowMs / 1000);
    const out = await this.#update({
      Key: key(subject),
      UpdateExpression: 'SET #t = :token, #e = :exp',
      ConditionExpression: 'attribute_not_exists(#t) OR #e < :now OR #t = :token',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':token': token, ':exp': now + this.#inProgressSeconds, ':now': now },
      ReturnValues: 'ALL_NEW',
    });
    if (out === false) return { claim: ClaimResult.inProgress, done: [] };
    return { claim: ClaimResult.claimed, done: setToList(out.Attributes?.done) };
  }

  async finish(subject: string, token: string, marks: readonly ProviderMark[]): Promise<void> {
    const done = marks.filter((m) => m.outcome === 'done').map((m) => m.provider);
    const failed = marks.filter((m) => m.outcome === 'failed').map((m) => m.provider);
    // One expression may touch `failed` once: with both kinds, the done ones go first, alone.
    if (done.length > 0 && failed.length > 0) await this.#mark(subject, done, 'done');
    const [outcome, providers] =
      failed.length > 0 ? (['failed', failed] as const) : (['done', done] as const);
    if (providers.length === 0) return this.#drop(subject, token);
    const ok = await this.#update({
      Key: key(subject),
      UpdateExpression:
        outcome === 'done' ? 'ADD done :p DELETE failed :p REMOVE #t, #e' : 'ADD failed :p REMOVE #t, #e',
      ConditionExpression: '#t = :token',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':p': new Set(providers), ':token': token },
    });
    // Our claim was taken over (we outlived its expiry): the outcomes are still facts.
    if (ok === false) await this.#mark(subject, providers, outcome);
  }

  /** Drops our own claim only: a run that outlived its expiry must not drop its successor's. */
  async #drop(subject: string, token: string): Promise<void> {
    await this.#update({
      Key: key(subject),
      UpdateExpression: 'REMOVE #t, #e',
      ConditionExpression: '#t = :token',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':token': token },
    });
  }

  /** Unconditional outcome write (SuppressionStore.markProvider's expression, several providers). */
  async #mark(subject: string, providers: readonly string[], outcome: 'done' | 'failed'): Promise<void> {
    if (providers.length === 0) return;
    await this.#update({
      Key: key(subject),
      UpdateExpression: outcome === 'done' ? 'ADD done :p DELETE failed :p' : 'ADD failed :p',
      ExpressionAttributeValues: { ':p': new Set(providers) },
    });
  }

  /** One update; false when its condition failed, any other error is a StoreError. */
  async #update(input: Omit<UpdateCommandInput, 'TableName'>): Promise<UpdateCommandOutput | false> {
    try {
      return await this.#client.send(new UpdateCommand({ TableName: this.#table, ...input }));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StoreError('action claim write failed', { cause: error });
    }
  }
}

function createDynamoDbActionClaims(options: DynamoDbActionClaimsOptions): ActionClaims {
  return new DynamoDbActionClaims(options);
}

export type { DynamoDbActionClaimsOptions };
export { createDynamoDbActionClaims };
