/**
 * The shared-files link of the chain: static keys or `credential_process` from the selected
 * profile. The SDK would also assume roles, use web identity or SSO from a profile; the shipper
 * does not, and says so instead of quietly falling through to another identity.
 */
import { execFile } from 'node:child_process';
import {
  AwsCredentialsError,
  type CredentialSourceResult,
  parseCredentialDocument,
} from './aws-credential-source.ts';
import type { Environment } from './aws-environment-credentials.ts';
import { readSharedProfile, type SharedProfile } from './aws-shared-config.ts';

/** Keys that select a credential type the shipper cannot produce, in the SDK's order of precedence. */
const UNSUPPORTED_BEFORE_STATIC = ['role_arn'] as const;
const UNSUPPORTED_AFTER_PROCESS = [
  'sso_session',
  'sso_start_url',
  'sso_account_id',
  'sso_role_name',
  'sso_region',
  'login_session',
] as const;

const PROCESS_TIMEOUT_MS = 30_000;

function unsupported(profile: SharedProfile, key: string): AwsCredentialsError {
  return new AwsCredentialsError(
    `profile "${profile.name}" sets ${key} (${profile.fileOf[key]}): roles, web identity and SSO profiles ` +
      'are not supported by pmta-shipper; use static keys, credential_process, the environment or an instance role',
  );
}

/**
 * Runs the command through /bin/sh -c, as the AWS SDK for JavaScript does, so quoting, ~ and
 * $VARIABLES in existing config files keep working. Neither the command line nor its output go
 * into errors: either may carry a secret.
 */
function runCredentialProcess(command: string, profile: string, env: Environment): Promise<string> {
  const where = `credential_process of profile "${profile}"`;
  return new Promise((resolve, reject) => {
    execFile(
      '/bin/sh',
      ['-c', command],
      {
        env: env as NodeJS.ProcessEnv,
        timeout: PROCESS_TIMEOUT_MS,
        maxBuffer: 1024 * 1024,
        encoding: 'utf8',
      },
      (error, stdout) => {
        if (error === null) return resolve(stdout);
        const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null };
        const why = e.killed
          ? `timed out after ${PROCESS_TIMEOUT_MS} ms`
          : typeof e.code === 'number'
            ? `exited with code ${e.code}`
            : e.signal
              ? `killed by ${e.signal}`
              : `failed (${e.code ?? 'unknown'})`;
        reject(new AwsCredentialsError(`${where} ${why}`));
      },
    );
  });
}

async function processCredentials(
  command: string,
  profile: string,
  env: Environment,
): Promise<CredentialSourceResult> {
  const where = `credential_process of profile "${profile}"`;
  const stdout = await runCredentialProcess(command, profile, env);
  let version: unknown;
  try {
    version = (JSON.parse(stdout) as { Version?: unknown }).Version;
  } catch {
    throw new AwsCredentialsError(`${where}: output is not JSON`);
  }
  if (version !== 1) throw new AwsCredentialsError(`${where}: output Version must be 1`);
  return { credentials: parseCredentialDocument(stdout, where) };
}

async function profileCredentials(env: Environment): Promise<CredentialSourceResult> {
  const profile = readSharedProfile(env);
  const values = profile.values;
  if (values === undefined) {
    return {
      skipped: `shared files (profile "${profile.name}" not in ${profile.credentialsFile} or ${profile.configFile})`,
    };
  }
  for (const key of UNSUPPORTED_BEFORE_STATIC) if (values[key] !== undefined) throw unsupported(profile, key);
  const accessKeyId = values.aws_access_key_id;
  const secretAccessKey = values.aws_secret_access_key;
  if (accessKeyId !== undefined || secretAccessKey !== undefined) {
    if (!accessKeyId || !secretAccessKey) {
      const missing = accessKeyId ? 'aws_secret_access_key' : 'aws_access_key_id';
      throw new AwsCredentialsError(`profile "${profile.name}" has no ${missing} (its pair is set)`);
    }
    const sessionToken = values.aws_session_token;
    return {
      credentials: sessionToken
        ? { accessKeyId, secretAccessKey, sessionToken }
        : { accessKeyId, secretAccessKey },
    };
  }
  if (values.credential_process) return processCredentials(values.credential_process, profile.name, env);
  for (const key of UNSUPPORTED_AFTER_PROCESS) if (values[key] !== undefined) throw unsupported(profile, key);
  return { skipped: `shared files (profile "${profile.name}" has no credentials)` };
}

export { profileCredentials };
