/**
 * Builds the CDK app from explicit options: the stack from the config file, and cdk-nag's
 * AwsSolutions checks (an unacknowledged finding fails synth). app.ts feeds it from context and
 * the environment; tests call it directly.
 */
import { type App, type Environment, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { BounceHandlerStack } from './bounce-handler-stack.ts';
import { loadStackConfig } from './config.ts';

const DEFAULT_STACK_NAME = 'PmtaBounce';

interface BounceHandlerAppOptions {
  /** The configuration file (the same one local mode reads). */
  configPath: string;
  stackName?: string;
  env?: Environment;
  /** TESTS ONLY: see BounceHandlerStackProps.handlerEntryOverride. */
  handlerEntryOverride?: string;
}

function buildBounceHandlerApp(app: App, options: BounceHandlerAppOptions): BounceHandlerStack {
  const stackConfig = loadStackConfig(options.configPath);
  const stack = new BounceHandlerStack(app, options.stackName ?? DEFAULT_STACK_NAME, {
    stackConfig,
    description: 'pmta-bounce: PowerMTA bounce, complaint and unsubscribe handling',
    ...(options.env ? { env: options.env } : {}),
    ...(options.handlerEntryOverride ? { handlerEntryOverride: options.handlerEntryOverride } : {}),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}

export type { BounceHandlerAppOptions };
export { buildBounceHandlerApp, DEFAULT_STACK_NAME };
