/**
 * Stand-in for shipper/sqs/sigv4.ts in the benchmark's SDK variant of the shipper: the same
 * signRequest, done by the AWS SDK's signer (@smithy/signature-v4). The payload hash is computed
 * over the body pieces and handed to the signer in x-amz-content-sha256 (which it then uses as
 * is), so the variant, like the shipper, never joins a ~1 MB body into one buffer to sign it.
 */
import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SignableRequest, SigningScope, SigV4Headers } from '../../shipper/sqs/sigv4.ts';
import { NodeSha256 } from '../../test/support/node-sha256.ts';

const signers = new WeakMap<object, SignatureV4>();

async function signRequest(request: SignableRequest, scope: SigningScope): Promise<SigV4Headers> {
  const url = typeof request.url === 'string' ? new URL(request.url) : request.url;
  let signer = signers.get(scope.credentials);
  if (!signer || (signer as unknown as { region: string }).region !== scope.region) {
    signer = new SignatureV4({
      service: scope.service,
      region: scope.region,
      credentials: scope.credentials,
      sha256: NodeSha256,
    });
    signers.set(scope.credentials, signer);
  }
  const hash = createHash('sha256');
  const pieces = Array.isArray(request.body) ? request.body : [request.body];
  for (const piece of pieces) hash.update(piece);
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: {},
      headers: { host: url.host, ...request.headers, 'x-amz-content-sha256': hash.digest('hex') },
    },
    { signingDate: scope.date },
  );
  const h = signed.headers;
  return {
    authorization: h.authorization as string,
    'x-amz-date': h['x-amz-date'] as string,
    'x-amz-content-sha256': h['x-amz-content-sha256'] as string,
    ...(h['x-amz-security-token'] ? { 'x-amz-security-token': h['x-amz-security-token'] } : {}),
  } as SigV4Headers;
}

export { signRequest };
