/**
 * `sandbox --fake-providers` for listmonk and Mautic: each gets its fake with generated credentials,
 * the configuration's url points at it, the adapters built from that configuration work against
 * it, and the stop summary names what they unsubscribed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config-schema.ts';
import { providerRegistry, providerSchemas } from '#providers/index.ts';
import { defaultProviderDeps } from '#providers/provider-definition.ts';
import { fakeProvidersExtension } from '#sandbox/fake-providers.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-fakes-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('sandbox --fake-providers with listmonk and Mautic', () => {
  it('starts both fakes, points the config at them and reports what they unsubscribed', async () => {
    const seed = join(dir, 'seed.csv');
    writeFileSync(seed, 'gone@example.com\nkept@example.com\n');
    const document = {
      providers: [
        { id: 'lm', type: 'listmonk', url: 'https://lm.invalid', username: 'api', token: '${LM_TOKEN}' },
        {
          id: 'mautic',
          type: 'mautic',
          url: 'https://mautic.invalid',
          clientId: '${MAUTIC_ID}',
          clientSecret: '${MAUTIC_SECRET}',
        },
      ],
    };
    const env: Record<string, string | undefined> = {};
    const printed: string[] = [];
    const prepared = await fakeProvidersExtension.prepare!(
      { 'fake-providers': true, seed },
      { document: () => document, env, print: (l) => printed.push(l), log: () => {} },
    );
    try {
      expect(printed.join('\n')).toMatch(
        /fake listmonk: +http:\/\/127\.0\.0\.1:\d+ \(provider lm, 4 subscriptions seeded\)/,
      );
      expect(printed.join('\n')).toMatch(
        /fake mautic: +http:\/\/127\.0\.0\.1:\d+ \(provider mautic, 4 subscriptions seeded\)/,
      );
      const config = parseConfig(prepared!.document, env, providerSchemas());
      for (const p of config.providers) {
        const provider = providerRegistry[p.type]!.create(p, defaultProviderDeps());
        expect(await provider.checkCredentials()).toMatchObject({ ok: true });
        const result = await provider.unsubscribeEverywhere('gone@example.com', {
          actionId: 'gone@example.com',
          kind: 'bounce',
          reason: 'category=bad-mailbox bounceCat: hard bounce',
        });
        expect(result.lists.some((l) => l.outcome === 'done')).toBe(true);
      }
    } finally {
      await prepared?.stop();
    }
    const summary = printed.join('\n');
    expect(summary).toMatch(/fake lm \(listmonk\): 2 of 4 subscriptions unsubscribed/);
    expect(summary).toMatch(/fake mautic \(mautic\): 2 of 4 subscriptions unsubscribed/);
    expect(summary).toMatch(/fake lm unsubscribed: gone@example.com/);
    expect(summary).not.toMatch(/kept@example.com/);
  });
});
