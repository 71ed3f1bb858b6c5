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
 *
 * An undo (`pmta-bounce undo --table`) forgets the suppression item, so its action claims a slot of
 * its own (sk `undo#<action id>`, core/act/action.ts claimSlot) that keeps its done set: act puts
 * each subscription back once, however often the message comes. And an unsubscribe still queued
 * for a suppression that was forgotten (item gone) or is being forgotten (`undoing` set by the
 * undo) is answered `forgotten`: it must call no provider, and its claim must not bring back an
 * item that would read as a suppression.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
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

const STATE_SK = 'state';
const key = (subject: string, slot?: string) => ({ pk: `sub#${subject}`, sk: slot ?? STATE_SK });
/** Set on a suppression item by `undo --table` while it forgets it (cli/undo-target.ts). */
const UNDOING = 'undoing';

function setToList(value: unknown): string[] {
  if (value instanceof Set) return [...(value as Set<string>)];
  return Array.isArray(value) ? (value as string[]) : [];
}

const NAMES = { '#t': 'claimToken', '#e': 'claimExpiresAt' };
const FREE = '(attribute_not_exists(#t) OR #e < :now OR #t = :token)';
/** On the suppression itself: it must exist and not be being undone (only a slot may be new). */
const LIVE = `attribute_exists(pk) AND attribute_not_exists(#u) AND ${FREE}`;

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
    await this.#drop(key(actionId), token);
  }

  async release(actionId: string, token: string): Promise<void> {
    await this.#drop(key(actionId), token);
  }

  async claimReading(subject: string, token: string, nowMs: number, slot?: string) {
    const now = Math.floor(nowMs / 1000);
    const out = await this.#update({
      Key: key(subject, slot),
      UpdateExpression: 'SET #t = :token, #e = :exp',
      ConditionExpression: slot === undefined ? LIVE : FREE,
      ExpressionAttributeNames: slot === undefined ? { ...NAMES, '#u': UNDOING } : NAMES,
      ExpressionAttributeValues: { ':token': token, ':exp': now + this.#inProgressSeconds, ':now': now },
      ReturnValues: 'ALL_NEW',
    });
    if (out !== false) return { claim: ClaimResult.claimed, done: setToList(out.Attributes?.done) };
    if (slot === undefined && (await this.#forgotten(subject)))
      return { claim: ClaimResult.forgotten, done: [] };
    return { claim: ClaimResult.inProgress, done: [] };
  }

  async finish(subject: string, token: string, marks: readonly ProviderMark[], slot?: string): Promise<void> {
    const done = marks.filter((m) => m.outcome === 'done').map((m) => m.provider);
    const failed = marks.filter((m) => m.outcome === 'failed').map((m) => m.provider);
    // One expression may touch `failed` once: with both kinds, the done ones go first, alone.
    if (done.length > 0 && failed.length > 0) await this.#mark(subject, slot, done, 'done');
    const [outcome, providers] =
      failed.length > 0 ? (['failed', failed] as const) : (['done', done] as const);
    if (providers.length === 0) return this.#drop(key(subject, slot), token);
    const ok = await this.#update({
      Key: key(subject, slot),
      UpdateExpression:
        outcome === 'done' ? 'ADD done :p DELETE failed :p REMOVE #t, #e' : 'ADD failed :p REMOVE #t, #e',
      ConditionExpression: '#t = :token',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':p': new Set(providers), ':token': token },
    });
    // Our claim was taken over (we outlived its expiry): the outcomes are still facts.
    if (ok === false) await this.#mark(subject, slot, providers, outcome);
  }

  /** The suppression is gone or being undone (a claim that failed for another reason is held). */
  async #forgotten(subject: string): Promise<boolean> {
    try {
      const out = await this.#client.send(
        new GetCommand({ TableName: this.#table, Key: key(subject), ConsistentRead: true }),
      );
      return !out.Item || out.Item[UNDOING] !== undefined;
    } catch (error) {
      throw new StoreError('action claim read failed', { cause: error });
    }
  }

  /** Drops our own claim only: a run that outlived its expiry must not drop its successor's. */
  async #drop(itemKey: ReturnType<typeof key>, token: string): Promise<void> {
    await this.#update({
      Key: itemKey,
      UpdateExpression: 'REMOVE #t, #e',
      ConditionExpression: '#t = :token',
      ExpressionAttributeNames: NAMES,
      ExpressionAttributeValues: { ':token': token },
    });
  }

  /**
   * Outcome write without our claim (SuppressionStore.markProvider's expression, several
   * providers); on the suppression only while it exists: a forgotten one is not brought back.
   */
  async #mark(
    subject: string,
    slot: string | undefined,
    providers: readonly string[],
    outcome: 'done' | 'failed',
  ): Promise<void> {
    if (providers.length === 0) return;
    await this.#update({
      Key: key(subject, slot),
      UpdateExpression: outcome === 'done' ? 'ADD done :p DELETE failed :p' : 'ADD failed :p',
      ...(slot === undefined ? { ConditionExpression: 'attribute_exists(pk)' } : {}),
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
export { createDynamoDbActionClaims, UNDOING };
