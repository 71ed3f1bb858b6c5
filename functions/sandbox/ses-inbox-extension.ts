/**
 * `pmta-bounce sandbox --ses-inbox DIR`: the SES inbox poller as a sandbox extension. The unsub
 * handler module is imported on the first mail, after the sandbox has set the handlers'
 * environment (its cold start reads it), exactly as Lambda would load it.
 */
import { ENV } from '#lambda/env.ts';
import { parseConfigWithoutSecrets } from '#lambda/wiring.ts';
import type { SandboxExtension } from './sandbox-extension.ts';
import { createSesInboxPoller, type SesInboxHandler } from './ses-inbox.ts';

const sesInboxExtension: SandboxExtension = {
  flags: { 'ses-inbox': { type: 'string' } },
  help: '  --ses-inbox DIR      feed .eml files dropped in DIR to the unsub function as SES inbound mail\n                       (X-Sandbox-Spam-Verdict: FAIL etc. set verdicts; files move to DIR/done/)',
  create(values, context, log) {
    const dir = values['ses-inbox'];
    if (typeof dir !== 'string' || dir === '') return undefined;
    const config = parseConfigWithoutSecrets(context.env[ENV.CONFIG_JSON] ?? '{}', process.env);
    let loaded: Promise<SesInboxHandler> | undefined;
    const handler: SesInboxHandler = async (event, lambdaContext) => {
      loaded ??= import('#lambda/unsub/handler.ts').then((m) => m.handler as unknown as SesInboxHandler);
      return (await loaded)(event, lambdaContext);
    };
    log(`ses inbox:     ${dir} (unsubscribe domains: ${config.unsubscribe.domains.join(', ') || 'none'})`);
    return createSesInboxPoller({
      dir,
      handler,
      recipientDomains: config.unsubscribe.domains,
      region: context.region,
      log,
    });
  },
};

export { sesInboxExtension };
