/**
 * The house Lambda function: ARM64 on the latest Node.js runtime, ESM bundle built by the local
 * esbuild with source maps, its own role and its own log group with retention. The `bind*` helpers
 * grant access and set the matching ENV variable together, so the two cannot drift apart.
 */
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type { ITableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '#lambda/env.ts';

/** The latest Node.js runtime aws-cdk-lib 2.276 offers for Lambda. */
const NODE_RUNTIME = Runtime.NODEJS_24_X;
/** esbuild target matching NODE_RUNTIME. */
const ESBUILD_TARGET = 'node24';

/** Where a function's code comes from and how long its logs stay: the same for every function. */
interface FunctionSource {
  /** Absolute path of the handler file (exports `handler`). */
  entry: string;
  /** Repository root: esbuild runs here and finds package-lock.json and tsconfig.json. */
  projectRoot: string;
  logRetention: RetentionDays;
}

interface BounceFunctionProps extends FunctionSource {
  description: string;
  timeout: Duration;
  memorySize: number;
  /** Destroy the log group with the stack (default: retain the logs). */
  logRemovalPolicy?: RemovalPolicy;
}

class BounceFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: BounceFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'LogGroup', {
      retention: props.logRetention,
      removalPolicy: props.logRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // An own role instead of AWSLambdaBasicExecutionRole: it may write to its log group only.
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.description} (execution role)`,
    });
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );
    this.function = new NodejsFunction(this, 'Function', {
      entry: props.entry,
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: `${props.projectRoot}/package-lock.json`,
      description: props.description,
      runtime: NODE_RUNTIME,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: LoggingFormat.JSON,
      environment: { NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.ESM,
        target: ESBUILD_TARGET,
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        // ESM bundles still meet CommonJS dependencies that call require().
        banner:
          "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
        forceDockerBundling: false,
        // The SDK version the tests ran, not whichever one the Lambda runtime happens to ship.
        bundleAwsSDK: true,
      },
    });
  }

  /** Exactly these DynamoDB actions on the table (TABLE_ACTIONS); sets ENV.TABLE_NAME. */
  bindTable(table: ITableV2, actions: readonly string[]): this {
    table.grant(this.function, ...actions.map((a) => `dynamodb:${a}`));
    this.function.addEnvironment(ENV.TABLE_NAME, table.tableName);
    return this;
  }

  /** Send actions to the actions queue; sets ENV.ACTIONS_QUEUE_URL. */
  bindActionsQueue(queue: IQueue): this {
    queue.grantSendMessages(this.function);
    this.function.addEnvironment(ENV.ACTIONS_QUEUE_URL, queue.queueUrl);
    return this;
  }

  /** The configuration document with its `${NAME}` placeholders left in (ENV.CONFIG_JSON). */
  bindConfig(configJson: string): this {
    this.function.addEnvironment(ENV.CONFIG_JSON, configJson);
    return this;
  }

  /**
   * Read access to the one secret that resolves the `${NAME}` placeholders, and its ARN in
   * ENV.SECRET_ARN. Only the ARN: never a secret value in the environment.
   */
  bindSecret(secret: ISecret): this {
    secret.grantRead(this.function);
    this.function.addEnvironment(ENV.SECRET_ARN, secret.secretArn);
    return this;
  }

  /**
   * Read access to the signing-key secret (unsubscribe.signing.keys[].secret as `${NAME}`), and its
   * ARN in ENV.SIGNING_SECRET_ARN: unsub and unsub-http verify tags without the provider secret.
   */
  bindSigningSecret(secret: ISecret): this {
    secret.grantRead(this.function);
    this.function.addEnvironment(ENV.SIGNING_SECRET_ARN, secret.secretArn);
    return this;
  }

  /** Send mail through SES from `from` only (v1 and v2 APIs authorize the same IAM actions). */
  bindSesSender(from: string, identities: readonly string[]): this {
    const stack = Stack.of(this);
    this.role.addToPrincipalPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ['ses:SendEmail', 'ses:SendRawEmail'],
        resources: [...new Set(identities)].map((identity) =>
          stack.formatArn({ service: 'ses', resource: 'identity', resourceName: identity }),
        ),
        conditions: { StringEquals: { 'ses:FromAddress': from } },
      }),
    );
    return this;
  }
}

export type { BounceFunctionProps, FunctionSource };
export { BounceFunction, ESBUILD_TARGET, NODE_RUNTIME };
