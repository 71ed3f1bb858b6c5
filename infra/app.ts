/**
 * The CDK app entry (cdk.json). The only place that reads context and the environment:
 *   -c config=PATH      the configuration file (else PMTA_BOUNCE_CONFIG, else ./pmta-bounce.config.yaml)
 *   -c stackName=NAME   default PmtaBounce (also names the dashboard)
 * An invalid configuration stops synth with the key path of the problem and exit code 2.
 */
import { App } from 'aws-cdk-lib';
import { resolveConfigPath } from '#cli/config-file.ts';
import { ConfigError } from '../functions/core/errors.ts';
import { buildBounceHandlerApp, DEFAULT_STACK_NAME } from './bounce-handler-app.ts';

function contextString(app: App, key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ConfigError(`context ${key}`, 'must be a string');
  return value;
}

function main(): void {
  const app = new App();
  try {
    const configPath = resolveConfigPath(contextString(app, 'config'), process.env);
    if (!configPath) {
      throw new ConfigError(
        '(file)',
        'no configuration: pass -c config=PATH, set PMTA_BOUNCE_CONFIG or create ./pmta-bounce.config.yaml',
      );
    }
    const account = process.env.CDK_DEFAULT_ACCOUNT;
    const region = process.env.CDK_DEFAULT_REGION;
    buildBounceHandlerApp(app, {
      configPath,
      stackName: contextString(app, 'stackName') ?? DEFAULT_STACK_NAME,
      ...(account || region ? { env: { account, region } } : {}),
    });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`pmta-bounce: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  app.synth();
}

main();
