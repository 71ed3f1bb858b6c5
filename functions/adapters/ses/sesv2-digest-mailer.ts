/**
 * Sends one postmaster digest through SES v2 SendEmail (simple content: subject, text and HTML).
 * SES builds the MIME message and encodes the subject, so no header is ever assembled by hand;
 * the addresses are still checked here so a bad configuration cannot smuggle extra recipients.
 */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { ConfigError } from '#core/errors.ts';
import type { DigestMailer } from '#core/ports.ts';

/** One bare address: no display name, no list, no whitespace or line breaks. */
const BARE_ADDRESS = /^[^\s<>",;:()[\]\\@]+@[^\s<>",;:()[\]\\@]+\.[^\s<>",;:()[\]\\@]+$/;

function checkAddress(key: string, value: string): string {
  if (!BARE_ADDRESS.test(value)) throw new ConfigError(key, 'must be one bare email address');
  return value;
}

function createSesV2DigestMailer(
  client: SESv2Client,
  options: { configurationSet?: string } = {},
): DigestMailer {
  return {
    async send(mail) {
      const charset = 'UTF-8';
      const out = await client.send(
        new SendEmailCommand({
          FromEmailAddress: checkAddress('notify.from', mail.from),
          Destination: { ToAddresses: [checkAddress('notify.to', mail.to)] },
          Content: {
            Simple: {
              Subject: { Data: mail.subject.replace(/[\r\n]+/g, ' '), Charset: charset },
              Body: {
                Text: { Data: mail.text, Charset: charset },
                Html: { Data: mail.html, Charset: charset },
              },
            },
          },
          ...(options.configurationSet ? { ConfigurationSetName: options.configurationSet } : {}),
        }),
      );
      return out.MessageId;
    },
  };
}

export { createSesV2DigestMailer };
