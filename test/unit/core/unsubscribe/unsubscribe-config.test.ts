/** The `unsubscribe` section's defences (core/unsubscribe/unsubscribe-config.ts, docs/unsubscribe.md). */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '#core/config-schema.ts';
import { ConfigError } from '#core/errors.ts';

const SECRET = 'x'.repeat(32);

function parse(unsubscribe: unknown, env: Record<string, string> = {}) {
  return parseConfig({ unsubscribe }, env, {});
}

function errorOf(unsubscribe: unknown, env: Record<string, string> = {}): ConfigError {
  try {
    parse(unsubscribe, env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('unsubscribe section', () => {
  it('defaults: no signing, spam and virus FAIL refuse, 300 per domain and 2000 per 10 minutes', () => {
    const { unsubscribe } = parse({ domains: ['unsub.example.com'] });
    expect(unsubscribe).toEqual({
      domains: ['unsub.example.com'],
      refuseVerdicts: { spam: ['FAIL'], virus: ['FAIL'], spf: [], dkim: [], dmarc: [] },
      rateLimit: { windowMinutes: 10, perSenderDomain: 300, global: 2000 },
      oneClick: {
        listNames: {},
        functionUrl: false,
        trustForwardedFor: false,
        rateLimit: { windowSeconds: 60, perClient: 60, global: 60_000 },
      },
    });
  });

  it('reads signing keys from ${NAME} and does not report them as literal', () => {
    const config = parse({ signing: { keys: [{ id: 'k1', secret: '${KEY}' }] } }, { KEY: SECRET });
    expect(config.unsubscribe.signing).toEqual({ keys: [{ id: 'k1', secret: SECRET }] });
    expect(config.literalSecrets).toEqual([]);
  });

  it('reports a literal signing secret by its key path', () => {
    const config = parse({ signing: { keys: [{ id: 'k1', secret: SECRET }] } });
    expect(config.literalSecrets).toEqual(['unsubscribe.signing.keys[0].secret']);
  });

  it.each([
    {
      case: 'short secret',
      value: { signing: { keys: [{ id: 'k1', secret: 'short-one' }] } },
      path: 'unsubscribe.signing.keys[0].secret',
    },
    {
      case: 'key id of 3',
      value: { signing: { keys: [{ id: 'abc', secret: SECRET }] } },
      path: 'unsubscribe.signing.keys[0].id',
    },
    {
      case: 'upper-case key id',
      value: { signing: { keys: [{ id: 'K', secret: SECRET }] } },
      path: 'unsubscribe.signing.keys[0].id',
    },
    {
      case: 'duplicate key ids',
      value: {
        signing: {
          keys: [
            { id: 'a', secret: SECRET },
            { id: 'a', secret: SECRET },
          ],
        },
      },
      path: 'unsubscribe.signing.keys',
    },
    { case: 'no keys', value: { signing: { keys: [] } }, path: 'unsubscribe.signing.keys' },
    {
      case: 'unknown verdict status',
      value: { refuseVerdicts: { spam: ['MAYBE'] } },
      path: 'unsubscribe.refuseVerdicts.spam[0]',
    },
    { case: 'zero limit', value: { rateLimit: { global: 0 } }, path: 'unsubscribe.rateLimit.global' },
  ])('$case: an error naming $path, never the secret', ({ value, path }) => {
    const error = errorOf(value);
    expect(error.message).toContain(path);
    expect(error.message).not.toContain('short-one');
    expect(error.message).not.toContain(SECRET);
  });
});
