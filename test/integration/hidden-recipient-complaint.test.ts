/**
 * A feedback report that hides the recipient (issue 11 item 2), in local mode with the real
 * adapters against the protocol fakes: the MailWizz ids logged from the sent message's headers
 * (MailWizz 2.x List-Unsubscribe and Feedback-ID) are resolved to the subscriber's address with one
 * lookup, and the complaint policy applies to that address: unsubscribed from every list, at every
 * provider (MailWizz and Interspire here). The audit trail holds both the ids and the address.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIo } from '#cli/cli-io.ts';
import { main } from '#cli/main.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';

const API_KEY = 'f'.repeat(40);
const IEM_TOKEN = 'fake-xml-token-0000000000000000000000001';
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-hidden-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string }> {
  let stdout = '';
  const out = new PassThrough();
  out.on('data', (d) => {
    stdout += d;
  });
  const io: CliIo = {
    stdin: Readable.from([]),
    stdout: out,
    stderr: new PassThrough(),
    env: { MW_KEY: API_KEY, IEM_TOKEN },
    now: () => Date.now(),
  };
  return { code: await main(args, io), stdout };
}

describe('a complaint whose feedback report hid the recipient', () => {
  it('unsubscribes the resolved address everywhere, at every provider, and audits ids and address', async () => {
    const mw = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
    const iem = await FakeInterspireServer.start({ username: 'admin', token: IEM_TOKEN });
    try {
      const news = mw.addList('News');
      const deals = mw.addList('Deals');
      const subscriber = mw.addSubscriber(news, 'carol@example.com');
      const other = mw.addSubscriber(deals, 'carol@example.com');
      const campaign = mw.addCampaign();
      const iemId = iem.addSubscriber(iem.addList('Newsletter'), 'carol@example.com');
      const config = join(dir, 'config.yaml');
      writeFileSync(
        config,
        [
          'providers:',
          `  - { id: mw, type: mailwizz, url: "${mw.url}", apiKey: "\${MW_KEY}", maxRetries: 0 }`,
          `  - { id: iem, type: interspire, url: "${iem.url}", username: admin, token: "\${IEM_TOKEN}", maxRetries: 0 }`,
          '',
        ].join('\n'),
      );
      const unsubscribe = `<https://mw.example.com/lists/${news}/unsubscribe/${subscriber}/${campaign}?source=email-client-unsubscribe-button>, <mailto:unsub@example.com?subject=Campaign-Uid:${campaign} / Subscriber-Uid:${subscriber} - Unsubscribe request&body=Please unsubscribe me!>`;
      const input = join(dir, 'fbl.csv');
      writeFileSync(
        input,
        [
          'type,timeLogged,orig,rcpt,feedbackType,header_List-Unsubscribe,header_Feedback-ID',
          `f,1764000000,news@example.com,,abuse,"${unsubscribe}",${campaign}:${subscriber}:${news}:cu00aa11bb22c`,
        ].join('\r\n'),
      );
      const state = join(dir, 'state.db');
      const processed = await run(['process', input, '--config', config, '--state', state, '--json']);
      expect(processed.code).toBe(0);
      expect(JSON.parse(processed.stdout)).toMatchObject({ unsubscribed: 1, failed: 0 });
      expect(mw.subscriber(subscriber)?.status).toBe('unsubscribed');
      expect(mw.subscriber(other)?.status).toBe('unsubscribed');
      expect(iem.subscriber(iemId)?.unsubscribed).not.toBe(0);

      const byIds = JSON.parse(
        (await run(['status', `ref:mailwizz:${news}:${subscriber}`, '--state', state, '--json'])).stdout,
      );
      expect(byIds.audit).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            action: 'resolve',
            reason: expect.stringContaining('carol@example.com'),
          }),
        ]),
      );
      const byAddress = JSON.parse(
        (await run(['status', 'carol@example.com', '--state', state, '--json'])).stdout,
      );
      expect(
        byAddress.audit.map((a: { provider?: string; outcome?: string }) => [a.provider, a.outcome]),
      ).toEqual(
        expect.arrayContaining([
          ['mw', 'done'],
          ['iem', 'done'],
        ]),
      );
      expect(byAddress.audit[0].reason).toContain(`ref:mailwizz:${news}:${subscriber}`);
    } finally {
      await Promise.all([mw.close(), iem.close()]);
    }
  });
});
