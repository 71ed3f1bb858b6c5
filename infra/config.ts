/**
 * Turns the one configuration file into what the stack needs: the validated Config, the document
 * as JSON with `${NAME}` placeholders left in (for ENV.CONFIG_JSON), and the names the secret must
 * hold. `${NAME}` values are never read here: placeholders are validated with a dummy value, so no
 * credential from the environment can reach the template.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { parseConfigText } from '#cli/config-file.ts';
import type { Config } from '../functions/core/config-schema.ts';
import { ConfigError } from '../functions/core/errors.ts';

/** What the stack is built from: the config file, already validated. */
interface StackConfig {
  config: Config;
  /** The file as compact JSON, placeholders intact: ENV.CONFIG_JSON of every function. */
  configJson: string;
  /** Each `${NAME}` the file references: keys of the JSON object in the provider secret. */
  secretNames: string[];
  /** Where it came from, for messages. */
  source: string;
}

/**
 * Value substituted for every `${NAME}` while validating at synth. Never a real credential; shaped
 * as a Standard Webhooks secret (`whsec_` + base64) so it passes the strictest credential schema.
 */
const PLACEHOLDER_VALUE = `whsec_${Buffer.from('pmta-bounce synth placeholder').toString('base64')}`;
/** Lambda allows 4 KiB for all environment variables of a function together. */
const LAMBDA_ENV_LIMIT_BYTES = 4096;
/** Room left for the other variables (ARNs, names, URLs). */
const CONFIG_JSON_LIMIT_BYTES = 3072;

const VAR_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** A stand-in URL for a `${NAME}` that is a whole `url` value (a webhook URL kept in the secret). */
const PLACEHOLDER_URL = 'https://synth-placeholder.invalid/';

/** Each `${NAME}` of the document, with the value that stands in for it while validating. */
function collectVariables(value: unknown, into: Map<string, string>, key = ''): Map<string, string> {
  if (typeof value === 'string') {
    for (const m of value.matchAll(VAR_PATTERN)) {
      const wholeUrl = key === 'url' && m[0] === value;
      if (!into.has(m[1]!) || !wholeUrl) into.set(m[1]!, wholeUrl ? PLACEHOLDER_URL : PLACEHOLDER_VALUE);
    }
  } else if (Array.isArray(value)) {
    for (const v of value) collectVariables(v, into);
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) collectVariables(v, into, k);
  }
  return into;
}

/** Validates configuration text for the AWS deployment. Throws ConfigError naming the key path. */
function parseStackConfig(text: string, source: string): StackConfig {
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch {
    document = undefined; // parseConfigText below reports the YAML error with its position
  }
  const variables = collectVariables(document, new Map());
  const secretNames = [...variables.keys()].sort();
  const placeholderEnv = Object.fromEntries(variables);
  const config = parseConfigText(text, placeholderEnv, source);
  if (config.literalSecrets.length > 0) {
    throw new ConfigError(
      config.literalSecrets[0]!,
      'holds a literal credential; in AWS write ${NAME} and put the value into the stack secret ' +
        '(docs/deploy-aws.md), so that no credential lands in the CloudFormation template',
    );
  }
  const configJson = JSON.stringify(document ?? {});
  const size = Buffer.byteLength(configJson, 'utf8');
  if (size > CONFIG_JSON_LIMIT_BYTES) {
    throw new ConfigError(
      '(file)',
      `is ${size} bytes as JSON; Lambda allows ${LAMBDA_ENV_LIMIT_BYTES} bytes of environment per ` +
        `function, so the configuration must stay under ${CONFIG_JSON_LIMIT_BYTES} bytes (comments do ` +
        'not count; shorten lists or rely on defaults)',
    );
  }
  return { config, configJson, secretNames, source };
}

/** Reads and validates the configuration file at `path`. */
function loadStackConfig(path: string): StackConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError('(file)', `cannot read ${path} (${code})`);
  }
  return parseStackConfig(text, path);
}

export type { StackConfig };
export { CONFIG_JSON_LIMIT_BYTES, loadStackConfig, PLACEHOLDER_VALUE, parseStackConfig };
