/**
 * The container link of the chain: the ECS agent (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) or any
 * endpoint named by AWS_CONTAINER_CREDENTIALS_FULL_URI (EKS Pod Identity, local tools), with the
 * authorization token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or
 * AWS_CONTAINER_AUTHORIZATION_TOKEN. When these variables are set this is the only remote source
 * tried, as in the SDK: falling back to the instance role would silently change identity.
 */
import { readFileSync } from 'node:fs';
import {
  AwsCredentialsError,
  type CredentialSourceResult,
  parseCredentialDocument,
} from './aws-credential-source.ts';
import type { Environment } from './aws-environment-credentials.ts';
import { describeRequestError, requestCredentialEndpoint } from './credential-http-request.ts';

const ECS_HOST = 'http://169.254.170.2';

/** Plain http only to places that cannot be on someone else's network, as the SDK allows. */
const PLAIN_HTTP_HOSTS = new Set(['localhost', '[::1]', '169.254.170.2', '169.254.170.23', '[fd00:ec2::23]']);

function isPlainHttpAllowed(url: URL): boolean {
  return PLAIN_HTTP_HOSTS.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
}

function containerUrl(env: Environment): URL | undefined {
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) {
    return new URL(`${ECS_HOST}${env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}`);
  }
  if (!env.AWS_CONTAINER_CREDENTIALS_FULL_URI) return undefined;
  let url: URL;
  try {
    url = new URL(env.AWS_CONTAINER_CREDENTIALS_FULL_URI);
  } catch {
    throw new AwsCredentialsError('container: AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL');
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isPlainHttpAllowed(url))) return url;
  throw new AwsCredentialsError(
    `container: AWS_CONTAINER_CREDENTIALS_FULL_URI must be https, or http to a loopback or ECS/EKS address (host ${url.hostname})`,
  );
}

/** The token file wins over the variable; it is re-read on every refresh because EKS rotates it. */
function authorizationToken(env: Environment): string | undefined {
  let token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  if (env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE) {
    try {
      token = readFileSync(env.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, 'utf8').trim();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      throw new AwsCredentialsError(
        `container: cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (${code})`,
      );
    }
  }
  if (token !== undefined && /[\r\n]/.test(token)) {
    throw new AwsCredentialsError('container: the authorization token contains a line break');
  }
  return token || undefined;
}

async function containerCredentials(env: Environment, timeoutMs: number): Promise<CredentialSourceResult> {
  const url = containerUrl(env);
  if (url === undefined) {
    return { skipped: 'container (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI not set)' };
  }
  const where = `container credentials at ${url.host}`;
  const token = authorizationToken(env);
  let res: Awaited<ReturnType<typeof requestCredentialEndpoint>>;
  try {
    res = await requestCredentialEndpoint(url, {
      method: 'GET',
      headers: token === undefined ? {} : { authorization: token },
      timeoutMs,
    });
  } catch (error) {
    throw new AwsCredentialsError(`${where}: ${describeRequestError(error)}`);
  }
  if (res.status !== 200) throw new AwsCredentialsError(`${where}: HTTP ${res.status}`);
  return { credentials: parseCredentialDocument(res.body, where) };
}

export { containerCredentials };
