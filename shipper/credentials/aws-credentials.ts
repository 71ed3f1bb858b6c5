/**
 * The shipper's AWS credential chain, in the SDK's order: environment, shared files (static keys
 * or credential_process), container endpoint, EC2 instance metadata. The first source that yields
 * wins; the result is cached and fetched again about five minutes before it expires. Used instead
 * of the SDK's provider chain to keep the bundled shipper free of dependencies.
 */

import { containerCredentials } from './aws-container-credentials.ts';
import {
  type AwsCredentials,
  AwsCredentialsError,
  type CredentialSourceResult,
} from './aws-credential-source.ts';
import { type Environment, environmentCredentials } from './aws-environment-credentials.ts';
import { instanceCredentials } from './aws-instance-credentials.ts';
import { profileCredentials } from './aws-profile-credentials.ts';

interface CredentialChainOptions {
  /** Milliseconds since the epoch; tests move it to reach the refresh window. */
  now?: () => number;
  /** Connect and response timeout for the container and instance metadata endpoints. */
  metadataTimeoutMs?: number;
}

const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;
/** Credentials that arrive already inside the refresh window (or a failed refresh) wait this long before the next try. */
const MIN_REUSE_MS = 30_000;

function webIdentityCheck(env: Environment): CredentialSourceResult {
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE) {
    throw new AwsCredentialsError(
      'environment: AWS_WEB_IDENTITY_TOKEN_FILE is set (web identity) and pmta-shipper does not support it; ' +
        'use static keys, credential_process, a container endpoint or an instance role',
    );
  }
  return { skipped: 'web identity (AWS_WEB_IDENTITY_TOKEN_FILE not set)' };
}

async function resolveCredentials(env: Environment, timeoutMs: number): Promise<AwsCredentials> {
  const sources: Array<() => CredentialSourceResult | Promise<CredentialSourceResult>> = [
    () => environmentCredentials(env),
    () => profileCredentials(env),
    () => webIdentityCheck(env),
    () => containerCredentials(env, timeoutMs),
    () => instanceCredentials(env, timeoutMs),
  ];
  const tried: string[] = [];
  for (const source of sources) {
    const result = await source();
    if ('credentials' in result) return result.credentials;
    tried.push(result.skipped);
  }
  throw new AwsCredentialsError(`no AWS credentials found; tried: ${tried.join('; ')}`);
}

/**
 * A provider to call before every request: cheap while the cached credentials are fresh, one
 * shared lookup when they are not. If a refresh fails while the old credentials are still valid,
 * they keep being used until then, with a new try every 30 s (a metadata endpoint hiccup must not
 * stop shipping).
 */
function createCredentialChain(
  env: Environment = process.env,
  options: CredentialChainOptions = {},
): () => Promise<AwsCredentials> {
  const now = options.now ?? Date.now;
  const timeoutMs = options.metadataTimeoutMs ?? 1000;
  let cached: AwsCredentials | undefined;
  let refreshAt = 0;
  let pending: Promise<AwsCredentials> | undefined;

  const refresh = (): Promise<AwsCredentials> => {
    pending ??= resolveCredentials(env, timeoutMs)
      .then((credentials) => {
        cached = credentials;
        const expiresAt = credentials.expiration?.getTime();
        refreshAt =
          expiresAt === undefined
            ? Number.POSITIVE_INFINITY
            : Math.min(expiresAt, Math.max(expiresAt - REFRESH_BEFORE_EXPIRY_MS, now() + MIN_REUSE_MS));
        return credentials;
      })
      .catch((error: unknown) => {
        const expiresAt = cached?.expiration?.getTime();
        if (cached === undefined || expiresAt === undefined || expiresAt <= now()) throw error;
        refreshAt = Math.min(expiresAt, now() + MIN_REUSE_MS);
        return cached;
      })
      .finally(() => {
        pending = undefined;
      });
    return pending;
  };

  return () => (cached !== undefined && now() < refreshAt ? Promise.resolve(cached) : refresh());
}

export type { AwsCredentials, CredentialChainOptions };
export { AwsCredentialsError, createCredentialChain };
