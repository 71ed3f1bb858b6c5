/**
 * Loads the one configuration file (YAML; JSON is valid YAML) that drives local mode, the sandbox
 * and the CDK app. `--config PATH`, else PMTA_BOUNCE_CONFIG, else ./pmta-bounce.config.yaml if it
 * exists, else the built-in defaults (no providers: decisions are recorded only).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Config, parseConfig } from '#core/config-schema.ts';
import { ConfigError } from '#core/errors.ts';
import { providerSchemas } from '#providers/index.ts';

const DEFAULT_CONFIG_FILE = 'pmta-bounce.config.yaml';

// The YAML parser loads with the first configuration file: a run on the built-in defaults (local
// mode without providers) starts ~15 ms sooner without it (docs/benchmarks.md, "Startup").
const require = createRequire(import.meta.url);
function parseYaml(text: string): unknown {
  return (require('yaml') as typeof import('yaml')).parse(text, { prettyErrors: true });
}

function resolveConfigPath(
  explicit: string | undefined,
  env: Record<string, string | undefined>,
): string | undefined {
  if (explicit) return explicit;
  if (env.PMTA_BOUNCE_CONFIG) return env.PMTA_BOUNCE_CONFIG;
  return existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined;
}

function parseConfigText(text: string, env: Record<string, string | undefined>, source = 'config'): Config {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigError('(file)', `${source} is not valid YAML: ${detail}`);
  }
  return parseConfig(document, env, providerSchemas());
}

function loadConfigFile(
  explicit: string | undefined,
  env: Record<string, string | undefined> = process.env,
): { config: Config; path: string | undefined } {
  const path = resolveConfigPath(explicit, env);
  if (!path) return { config: parseConfig({}, env, providerSchemas()), path: undefined };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError('(file)', `cannot read ${path} (${code})`);
  }
  return { config: parseConfigText(text, env, path), path };
}

export { DEFAULT_CONFIG_FILE, loadConfigFile, parseConfigText, resolveConfigPath };
