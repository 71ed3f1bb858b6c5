/**
 * Names shared by the Lambda functions and the CDK stack, so a typo cannot creep in between them.
 * (The configuration file itself is read by functions/cli/config-file.ts; the table's key schema
 * is functions/adapters/dynamodb/table-schema.ts.)
 */

/** Environment variables the stack sets on the functions. */
const ENV = {
  /** The configuration document (JSON), `${NAME}` placeholders left in: secrets are not in env. */
  CONFIG_JSON: 'PMTA_BOUNCE_CONFIG_JSON',
  /** ARN of the Secrets Manager secret: a JSON object {"NAME": "value"} for each `${NAME}`. */
  SECRET_ARN: 'PMTA_BOUNCE_SECRET_ARN',
  /**
   * ARN of the signing-key secret (unsub, unsub-http only): a JSON object {"NAME": "value"} for the
   * `${NAME}` of unsubscribe.signing.keys[].secret. Separate from SECRET_ARN, which only act reads.
   */
  SIGNING_SECRET_ARN: 'PMTA_BOUNCE_SIGNING_SECRET_ARN',
  /** The DynamoDB table (single table: pk, sk, TTL attribute `expiresAt`). */
  TABLE_NAME: 'PMTA_BOUNCE_TABLE',
  /** Queue the ingest and unsub functions send actions to. */
  ACTIONS_QUEUE_URL: 'PMTA_BOUNCE_ACTIONS_QUEUE_URL',
  /** Endpoint overrides for the sandbox (fauxqs, dynalite); unset in AWS. */
  SQS_ENDPOINT: 'PMTA_BOUNCE_SQS_ENDPOINT',
  DYNAMODB_ENDPOINT: 'PMTA_BOUNCE_DYNAMODB_ENDPOINT',
  /** The actions queue's maxReceiveCount: act notifies a failure on that receive as final. */
  MAX_RECEIVE_COUNT: 'PMTA_BOUNCE_MAX_RECEIVE_COUNT',
  /**
   * How many act instances run at once (the event source's maxConcurrency): each one takes that
   * share of every provider's `concurrency` and `ratePerSecond`.
   */
  ACT_INSTANCES: 'PMTA_BOUNCE_ACT_INSTANCES',
} as const;

/**
 * The DynamoDB actions each function's code calls (functions/adapters/dynamodb): the stack grants
 * exactly these. None scans, and none deletes single items (notify removes digested notices with
 * BatchWriteItem, the audit and state writes of every function are batched too).
 */
const TABLE_ACTIONS = {
  ingest: ['BatchGetItem', 'BatchWriteItem', 'GetItem', 'PutItem', 'Query'],
  act: ['BatchWriteItem', 'GetItem', 'UpdateItem'],
  // UpdateItem: the unsubscribe rate counters (unsubscribe.rateLimit).
  unsub: ['BatchGetItem', 'BatchWriteItem', 'GetItem', 'PutItem', 'UpdateItem'],
  notify: ['BatchWriteItem', 'Query'],
  // As unsub: the suppression item, its audit, the one-click rate counters.
  'unsub-http': ['BatchGetItem', 'BatchWriteItem', 'GetItem', 'PutItem', 'UpdateItem'],
} as const satisfies Record<string, readonly string[]>;

/** Handler entry files (relative to the repository root), referenced by the stack. */
const HANDLER_ENTRIES = {
  ingest: 'functions/lambda/ingest/handler.ts',
  act: 'functions/lambda/act/handler.ts',
  unsub: 'functions/lambda/unsub/handler.ts',
  notify: 'functions/lambda/notify/handler.ts',
  'unsub-http': 'functions/lambda/unsub-http/handler.ts',
} as const;

export { ENV, HANDLER_ENTRIES, TABLE_ACTIONS };
