/**
 * Stand-in for shipper/credentials/aws-credentials.ts in the benchmark's SDK variant of the
 * shipper: the AWS SDK's default chain (@aws-sdk/credential-provider-node), which caches and
 * refreshes on its own. It reads process.env, so the `env` argument is not used.
 */
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import type { AwsCredentials } from '../../shipper/credentials/aws-credential-source.ts';

function createCredentialChain(): () => Promise<AwsCredentials> {
  return defaultProvider();
}

export { createCredentialChain };
