/**
 * The last link of the chain: the EC2 instance role through instance metadata, IMDSv2 only (a
 * session token first, then the role name, then its credentials). IMDSv1 is not used: instances
 * launched today require tokens, and the token flow works on the rest too.
 */
import { type CredentialSourceResult, parseCredentialDocument } from './aws-credential-source.ts';
import type { Environment } from './aws-environment-credentials.ts';
import {
  type CredentialHttpResponse,
  describeRequestError,
  requestCredentialEndpoint,
} from './credential-http-request.ts';

const DEFAULT_ENDPOINT = 'http://169.254.169.254';
const TOKEN_TTL_SECONDS = '21600';
const CREDENTIALS_PATH = '/latest/meta-data/iam/security-credentials/';

class InstanceMetadataSkip extends Error {}

async function metadataRequest(
  url: URL,
  method: 'GET' | 'PUT',
  headers: Record<string, string>,
  timeoutMs: number,
  what: string,
): Promise<CredentialHttpResponse> {
  let res: CredentialHttpResponse;
  try {
    res = await requestCredentialEndpoint(url, { method, headers, timeoutMs });
  } catch (error) {
    throw new InstanceMetadataSkip(`${what}: ${describeRequestError(error)}`);
  }
  if (res.status !== 200) throw new InstanceMetadataSkip(`${what}: HTTP ${res.status}`);
  return res;
}

async function instanceCredentials(env: Environment, timeoutMs: number): Promise<CredentialSourceResult> {
  if (env.AWS_EC2_METADATA_DISABLED?.toLowerCase() === 'true') {
    return { skipped: 'instance metadata (AWS_EC2_METADATA_DISABLED=true)' };
  }
  const base = (env.AWS_EC2_METADATA_SERVICE_ENDPOINT || DEFAULT_ENDPOINT).replace(/\/+$/, '');
  try {
    const token = (
      await metadataRequest(
        new URL(`${base}/latest/api/token`),
        'PUT',
        { 'x-aws-ec2-metadata-token-ttl-seconds': TOKEN_TTL_SECONDS },
        timeoutMs,
        'token',
      )
    ).body;
    const auth = { 'x-aws-ec2-metadata-token': token };
    const roles = await metadataRequest(
      new URL(`${base}${CREDENTIALS_PATH}`),
      'GET',
      auth,
      timeoutMs,
      'role',
    );
    const role = roles.body.split('\n')[0]?.trim();
    if (!role) throw new InstanceMetadataSkip('no instance role attached');
    const url = new URL(`${base}${CREDENTIALS_PATH}${encodeURIComponent(role)}`);
    const doc = await metadataRequest(url, 'GET', auth, timeoutMs, `role ${role}`);
    return { credentials: parseCredentialDocument(doc.body, `instance metadata role ${role}`) };
  } catch (error) {
    // Not on EC2 (or no role): the usual outcome off EC2, reported in the chain's final message.
    if (error instanceof InstanceMetadataSkip)
      return { skipped: `instance metadata at ${base} (${error.message})` };
    throw error;
  }
}

export { instanceCredentials };
