/**
 * Reads one profile from the shared AWS files (~/.aws/credentials and ~/.aws/config, or the files
 * AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE name), merged the way the AWS SDKs merge them: a
 * key in the credentials file wins over the same key in the config file.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from './aws-environment-credentials.ts';

type IniSections = Map<string, Record<string, string>>;

interface SharedProfile {
  name: string;
  /** Undefined when neither file has the profile. */
  values: Record<string, string> | undefined;
  /** Which file set each key (for error messages that point at the right file). */
  fileOf: Record<string, string>;
  credentialsFile: string;
  configFile: string;
}

/**
 * INI as the AWS tools write it: `[section]`, `key = value`, comments from `#` or `;` at the
 * start of a line or after whitespace, and indented `sub = value` lines under a `key =` with no
 * value (stored as `key.sub`; the shipper reads none of them, they just must not leak into keys).
 */
function parseIni(text: string): IniSections {
  const sections: IniSections = new Map();
  let current: Record<string, string> | undefined;
  let parent: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/(^|\s)[#;].*$/, '').trim();
    if (line === '') continue;
    if (line.startsWith('[') && line.endsWith(']')) {
      const name = line.slice(1, -1).trim().replace(/\s+/g, ' ');
      current = sections.get(name) ?? {};
      sections.set(name, current);
      parent = undefined;
      continue;
    }
    const eq = line.indexOf('=');
    if (current === undefined || eq <= 0) continue;
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const indented = raw.trimStart() !== raw;
    if (value === '') {
      parent = key;
    } else if (parent !== undefined && indented) {
      current[`${parent}.${key}`] = value;
    } else {
      parent = undefined;
      current[key] = value;
    }
  }
  return sections;
}

function readIni(path: string): IniSections {
  try {
    return parseIni(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw error;
  }
}

function expandHome(path: string, home: string): string {
  return path === '~' || path.startsWith('~/') ? join(home, path.slice(1)) : path;
}

function readSharedProfile(env: Environment): SharedProfile {
  const home = env.HOME || homedir();
  const name = env.AWS_PROFILE || 'default';
  const credentialsFile = expandHome(env.AWS_SHARED_CREDENTIALS_FILE || '~/.aws/credentials', home);
  const configFile = expandHome(env.AWS_CONFIG_FILE || '~/.aws/config', home);
  const config = readIni(configFile);
  // In the config file a profile is `[profile NAME]`; `[default]` is the one exception.
  const fromConfig =
    config.get(`profile ${name}`) ?? (name === 'default' ? config.get('default') : undefined);
  const fromCredentials = readIni(credentialsFile).get(name);
  const fileOf: Record<string, string> = {};
  for (const key of Object.keys(fromConfig ?? {})) fileOf[key] = configFile;
  for (const key of Object.keys(fromCredentials ?? {})) fileOf[key] = credentialsFile;
  const values =
    fromConfig === undefined && fromCredentials === undefined
      ? undefined
      : { ...fromConfig, ...fromCredentials };
  return { name, values, fileOf, credentialsFile, configFile };
}

export type { SharedProfile };
export { parseIni, readSharedProfile };
