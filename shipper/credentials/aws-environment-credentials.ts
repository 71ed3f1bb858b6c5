/** The first link of the chain: keys in the process environment, as every AWS SDK reads them. */
import {
  type AwsCredentials,
  AwsCredentialsError,
  type CredentialSourceResult,
} from './aws-credential-source.ts';

type Environment = Record<string, string | undefined>;

function environmentCredentials(env: Environment): CredentialSourceResult {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId && !secretAccessKey) {
    return { skipped: 'environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set)' };
  }
  // Half a pair is a mistake worth stopping for, not a reason to go looking elsewhere.
  if (!accessKeyId || !secretAccessKey) {
    const missing = accessKeyId ? 'AWS_SECRET_ACCESS_KEY' : 'AWS_ACCESS_KEY_ID';
    throw new AwsCredentialsError(`environment: ${missing} is not set (its pair is)`);
  }
  const credentials: AwsCredentials = { accessKeyId, secretAccessKey };
  if (env.AWS_SESSION_TOKEN) credentials.sessionToken = env.AWS_SESSION_TOKEN;
  if (env.AWS_CREDENTIAL_EXPIRATION) {
    const expiration = new Date(env.AWS_CREDENTIAL_EXPIRATION);
    if (Number.isNaN(expiration.getTime())) {
      throw new AwsCredentialsError('environment: AWS_CREDENTIAL_EXPIRATION is not a date');
    }
    credentials.expiration = expiration;
  }
  return { credentials };
}

export type { Environment };
export { environmentCredentials };
