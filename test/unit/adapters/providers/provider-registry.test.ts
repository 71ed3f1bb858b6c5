import { describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config-schema.ts';
import { ConfigError } from '#core/errors.ts';
import { providerRegistry, providerSchemas } from '#providers/index.ts';
import { defaultProviderDeps } from '#providers/provider-definition.ts';

const ENV = {
  MAILWIZZ_API_KEY: 'fake-key',
  MAILWIZZ_PRIVATE_KEY: 'fake-private',
  INTERSPIRE_TOKEN: 'fake-token',
  WEBHOOK_SECRET: `whsec_${Buffer.from('fake-webhook-secret-for-tests-only').toString('base64')}`,
  CRM_HOOK_URL: 'https://crm.example.com/hooks/suppress',
};

/** `${NAME}` as written in the configuration file. */
const envRef = (name: string) => `$\{${name}}`;

// The documented examples (docs/interfaces.md §3, docs/providers.md), in their provider keys.
const DOCUMENT = {
  providers: [
    {
      id: 'mailwizz',
      type: 'mailwizz',
      url: 'https://mw.example.com/api',
      apiKey: envRef('MAILWIZZ_API_KEY'),
      privateKey: envRef('MAILWIZZ_PRIVATE_KEY'),
      senders: ['news@example.com', '*@promo.example.com'],
      concurrency: 4,
      ratePerSecond: 10,
    },
    {
      id: 'interspire',
      type: 'interspire',
      url: 'https://iem.example.com/xml.php',
      username: 'admin',
      token: envRef('INTERSPIRE_TOKEN'),
    },
    {
      id: 'crm',
      type: 'webhook',
      url: envRef('CRM_HOOK_URL'),
      secret: envRef('WEBHOOK_SECRET'),
    },
  ],
};

describe('provider registry', () => {
  it('registers mailwizz, interspire, webhook, listmonk and mautic', () => {
    expect(Object.keys(providerRegistry).sort()).toEqual([
      'interspire',
      'listmonk',
      'mailwizz',
      'mautic',
      'webhook',
    ]);
    for (const [type, def] of Object.entries(providerRegistry)) expect(def.type).toBe(type);
  });

  it('parses the documented configuration and creates every provider with the default deps', () => {
    const config = parseConfig(DOCUMENT, ENV, providerSchemas());
    expect(config.literalSecrets).toEqual([]);
    const providers = config.providers.map((p) => providerRegistry[p.type]!.create(p, defaultProviderDeps()));
    expect(providers.map((p) => [p.id, p.type])).toEqual([
      ['mailwizz', 'mailwizz'],
      ['interspire', 'interspire'],
      ['crm', 'webhook'],
    ]);
  });

  it.each([
    { case: 'a misspelt key', patch: { apikey: 'x' }, index: 0, path: 'providers[0]' },
    { case: 'a missing token', patch: { token: undefined }, index: 1, path: 'providers[1].token' },
    { case: 'a bad webhook secret', patch: { secret: 'short' }, index: 2, path: 'providers[2].secret' },
  ])('names the key path for $case', ({ patch, index, path }) => {
    const doc = structuredClone(DOCUMENT) as { providers: Record<string, unknown>[] };
    doc.providers[index] = { ...doc.providers[index], ...patch };
    const error = (() => {
      try {
        parseConfig(doc, ENV, providerSchemas());
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).path).toBe(path);
  });

  it('flags credentials written literally', () => {
    const doc = structuredClone(DOCUMENT);
    doc.providers[1]!.token = 'literal-fake-token';
    doc.providers[2]!.url = 'https://crm.example.com/hooks/t0k3n'; // a hook URL carries its token
    expect(parseConfig(doc, ENV, providerSchemas()).literalSecrets).toEqual([
      'providers[1].token',
      'providers[2].url',
    ]);
  });

  it.each([
    ['https://mw.example.com/api', true],
    ['http://127.0.0.1:8080/api', true],
    ['http://localhost/api', true],
    ['http://mw.example.com/api', false],
  ])('accepts %s as a provider URL: %s (http only to loopback)', (url, ok) => {
    const doc = { providers: [{ ...DOCUMENT.providers[0]!, url }] };
    const parse = () => parseConfig(doc, ENV, providerSchemas());
    if (ok) expect(parse().providers[0]!.url).toBe(url);
    else expect(parse).toThrow(/providers\[0\]\.url: must be https:\/\//);
    const escaped = { providers: [{ ...DOCUMENT.providers[0]!, url, allowInsecureHttp: true }] };
    expect(parseConfig(escaped, ENV, providerSchemas()).providers[0]!.url).toBe(url);
  });
});
