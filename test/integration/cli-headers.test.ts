/** `pmta-bounce headers`: the exact lines to paste, per provider type (docs/unsubscribe.md). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { headersCommand } from '#cli/headers-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-headers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(config: string, args: string[] = []) {
  const file = join(dir, `${Math.abs(config.length)}-${args.join('')}.yaml`);
  writeFileSync(file, config);
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (d) => {
    stdout += d;
  });
  const err = new PassThrough().on('data', (d) => {
    stderr += d;
  });
  const code = await headersCommand(['--config', file, ...args], {
    stdin: Readable.from([]),
    stdout: out,
    stderr: err,
    env: { MW: 'k'.repeat(40), IS: 'x'.repeat(20) },
    now: () => 0,
  });
  return { code, stdout, stderr };
}

const BASE = [
  'providers:',
  '  - { id: mw, type: mailwizz, url: "https://mw.example.com/api", apiKey: "${MW}" }',
  'unsubscribe:',
  '  domains: [unsub.example.com]',
  '  oneClick: { baseUrl: "https://u.example.com/" }',
  '',
].join('\n');

describe('pmta-bounce headers', () => {
  it('MailWizz: both URIs with the campaign tags, the One-Click line, the DKIM reminder', async () => {
    const { code, stdout } = await run(BASE, ['--provider', 'mw']);
    expect(code).toBe(0);
    expect(stdout).toContain(
      'List-Unsubscribe: <mailto:[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]@unsub.example.com?subject=unsubscribe>, <https://u.example.com/u/[SUBSCRIBER_UID].[LIST_UID].[CAMPAIGN_UID]>\n',
    );
    expect(stdout).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click\n');
    expect(stdout).toMatch(/DKIM-sign both headers/);
  });

  it('an unknown provider id is a usage error naming it', async () => {
    const { code, stderr } = await run(BASE, ['--provider', 'nope']);
    expect(code).toBe(2);
    expect(stderr).toContain('"nope"');
  });
});
