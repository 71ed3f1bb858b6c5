/**
 * The settings of the mailto unsubscribe check from the configuration, shared by the unsub function
 * and `pmta-bounce unsub` so both apply the same defences (docs/security.md). Pure: the MAC comes in.
 */
import type { Config } from '../config-schema.ts';
import type { Router } from '../decide/routing.ts';
import type { HmacSha256 } from '../ports.ts';
import type { InboundUnsubscribeSettings } from './inbound-unsubscribe.ts';

function inboundUnsubscribeSettings(
  config: Pick<Config, 'unsubscribe' | 'policy'>,
  router: Router,
  hmac: HmacSha256,
): InboundUnsubscribeSettings {
  const { domains, signing, refuseVerdicts, rateLimit } = config.unsubscribe;
  return {
    domains,
    scope: config.policy.unsubscribeScope,
    router,
    signing: signing ? { keys: signing.keys, hmac } : undefined,
    refuseVerdicts,
    rateLimit: {
      windowMs: rateLimit.windowMinutes * 60_000,
      perSenderDomain: rateLimit.perSenderDomain,
      global: rateLimit.global,
    },
  };
}

export { inboundUnsubscribeSettings };
