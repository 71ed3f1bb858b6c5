/**
 * `pmta-bounce headers [--provider ID] [--config F]`: the List-Unsubscribe and
 * List-Unsubscribe-Post lines to paste into the list manager for one provider (docs/unsubscribe.md,
 * "Headers to paste"), from unsubscribe.oneClick.baseUrl and unsubscribe.domains.
 */
import { parseArgs } from 'node:util';
import type { Config } from '#core/config-schema.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';

const MAILWIZZ_IDS = '[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]';
const DKIM_REMINDER = `Reminder: PowerMTA must DKIM-sign both headers (RFC 8058): put List-Unsubscribe and
List-Unsubscribe-Post in the header list of your dkim-sign configuration. Without a valid DKIM
signature covering both, Gmail and Yahoo do not offer one-click.`;

function mailwizzLines(config: Config): string[] {
  const base = config.unsubscribe.oneClick.baseUrl?.replace(/\/+$/, '') ?? 'https://unsub.example.com';
  const domain = config.unsubscribe.domains[0] ?? 'unsub.example.com';
  const lines = [
    'MailWizz: Campaign → Options → Custom headers (or Customer → Campaigns → Settings for all campaigns):',
    '',
    // mailto first, as docs/unsubscribe.md ("The address") advises; one https URI for RFC 8058.
    `List-Unsubscribe: <mailto:${MAILWIZZ_IDS}@${domain}?subject=unsubscribe>, <${base}/u/${MAILWIZZ_IDS}>`,
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
  ];
  if (!config.unsubscribe.oneClick.baseUrl)
    lines.push('', 'note: unsubscribe.oneClick.baseUrl is not set: replace https://unsub.example.com');
  if (config.unsubscribe.signing)
    lines.push(
      '',
      'note: unsubscribe.signing is on, and MailWizz tags cannot compute the signature tag: links built',
      'this way are refused (403). Build the header where the tag can be computed (signUnsubscribeToken,',
      'docs/unsubscribe.md), or leave signing off for MailWizz: the ids then are the only secret.',
    );
  return lines;
}

function otherLines(type: string, config: Config): string[] {
  const base = config.unsubscribe.oneClick.baseUrl?.replace(/\/+$/, '') ?? 'https://unsub.example.com';
  return [
    `${type}: the list manager cannot build pmta-bounce's link with its own merge tags.`,
    'Where you build the message yourself (transactional mail, your own systems), seal the address:',
    '',
    `List-Unsubscribe: <${base}/u/e.{keyId}.{sealed}>`,
    'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    '',
    'sealAddressToken() in functions/core/unsubscribe/one-click-token.ts with the aes-256-gcm adapter',
    "makes the token (needs unsubscribe.signing). Otherwise keep the list manager's own link and",
    'check that its POST unsubscribes without a confirmation page.',
  ];
}

async function headersCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, provider: { type: 'string' } },
  });
  const { config } = loadConfigFile(values.config, io.env);
  const provider = values.provider
    ? config.providers.find((p) => p.id === values.provider)
    : config.providers[0];
  if (values.provider && !provider) {
    io.stderr.write(
      `pmta-bounce headers: no provider ${JSON.stringify(values.provider)} in the configuration\n`,
    );
    return ExitCode.usage;
  }
  const type = provider?.type ?? 'mailwizz';
  const lines = type === 'mailwizz' ? mailwizzLines(config) : otherLines(type, config);
  io.stdout.write(`${[...lines, '', DKIM_REMINDER].join('\n')}\n`);
  return ExitCode.ok;
}

export { headersCommand };
