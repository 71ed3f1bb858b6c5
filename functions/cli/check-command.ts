/**
 * `pmta-bounce check`: validates the configuration and checks each provider's credentials with
 * its cheapest authenticated call.
 */
import { parseArgs } from 'node:util';
import { createProviderMap } from '#providers/provider-map.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';

async function checkCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { config: { type: 'string' } } });
  const { config, path } = loadConfigFile(values.config, io.env);
  io.stdout.write(`configuration ${path ?? '(built-in defaults)'}: valid\n`);
  for (const key of config.literalSecrets) {
    io.stdout.write(`  warning: ${key} is a credential written literally; use \${VAR}\n`);
  }
  const p = config.policy;
  io.stdout.write(
    `  policy: hard=${p.hardCategories.join(',')} soft=${p.soft.categories.join(',')} (${p.soft.threshold} within ${p.soft.windowDays}d) complaints=${p.complaints} unsubscribeScope=${p.unsubscribeScope}\n`,
  );
  if (config.providers.length === 0) {
    io.stdout.write('  no providers configured: process records decisions and suppressions only\n');
    return ExitCode.ok;
  }
  let failures = 0;
  for (const [id, provider] of createProviderMap(config)) {
    try {
      const result = await provider.checkCredentials();
      if (!result.ok) failures++;
      io.stdout.write(`  ${id} (${provider.type}): ${result.ok ? 'ok' : 'FAILED'} — ${result.detail}\n`);
    } catch (error) {
      failures++;
      io.stdout.write(`  ${id} (${provider.type}): FAILED — ${(error as Error).message}\n`);
    }
  }
  return failures > 0 ? ExitCode.usage : ExitCode.ok;
}

export { checkCommand };
