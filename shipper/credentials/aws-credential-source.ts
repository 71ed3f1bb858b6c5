/**
 * What every credential source of the shipper's chain shares: the credentials, the "not here,
 * try the next one" answer, the error for a source that is configured but broken, and the reading
 * of the JSON document that container, instance metadata and credential_process all answer with.
 * No message built here ever contains a credential value.
 */

interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** When temporary credentials stop working; absent for long-term keys. */
  expiration?: Date;
}

/** A source either yields credentials or says why it had none (for the "tried: …" message). */
type CredentialSourceResult = { credentials: AwsCredentials } | { skipped: string };

class AwsCredentialsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'AwsCredentialsError';
  }
}

/**
 * Reads {AccessKeyId, SecretAccessKey, Token|SessionToken, Expiration}. `where` names the source
 * in errors; the message names missing fields, never values.
 */
function parseCredentialDocument(text: string, where: string): AwsCredentials {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new AwsCredentialsError(`${where}: the answer is not JSON`);
  }
  if (typeof doc !== 'object' || doc === null) throw new AwsCredentialsError(`${where}: not a JSON object`);
  const d = doc as Record<string, unknown>;
  const accessKeyId = d.AccessKeyId;
  const secretAccessKey = d.SecretAccessKey;
  if (typeof accessKeyId !== 'string' || accessKeyId === '') {
    throw new AwsCredentialsError(`${where}: AccessKeyId missing`);
  }
  if (typeof secretAccessKey !== 'string' || secretAccessKey === '') {
    throw new AwsCredentialsError(`${where}: SecretAccessKey missing`);
  }
  const token = d.Token ?? d.SessionToken;
  const credentials: AwsCredentials = { accessKeyId, secretAccessKey };
  if (typeof token === 'string' && token !== '') credentials.sessionToken = token;
  if (d.Expiration !== undefined && d.Expiration !== null) {
    const expiration = new Date(String(d.Expiration));
    if (Number.isNaN(expiration.getTime()))
      throw new AwsCredentialsError(`${where}: Expiration is not a date`);
    credentials.expiration = expiration;
  }
  return credentials;
}

export type { AwsCredentials, CredentialSourceResult };
export { AwsCredentialsError, parseCredentialDocument };
