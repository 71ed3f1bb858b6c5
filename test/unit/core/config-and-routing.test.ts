import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig, providerBaseSchema } from '#core/config-schema.ts';
import { createRouter, globMatcher } from '#core/decide/routing.ts';
import { ConfigError } from '#core/errors.ts';

const schemas = {
  fake: {
    schema: providerBaseSchema.extend({ url: z.string().url(), apiKey: z.string().min(1) }).strict(),
    secretKeys: ['apiKey'],
  },
};

function configError(doc: unknown, env: Record<string, string> = {}): string {
  try {
    parseConfig(doc, env, schemas);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const c = parseConfig({}, {}, schemas);
    expect(c.policy).toEqual({
      hardCategories: ['bad-mailbox', 'bad-domain', 'inactive-mailbox', 'routing-errors'],
      soft: {
        categories: ['quota-issues', 'message-expired', 'no-answer-from-host', 'bad-connection', 'other'],
        threshold: 5,
        windowDays: 30,
        onePerUtcDay: true,
        resetOnDelivery: true,
        senderSideExpiry: 'ignore',
      },
      complaints: 'unsubscribe',
      unsubscribeScope: 'list',
    });
    expect(c.providers).toEqual([]);
  });

  it('expands ${VAR} from the environment and flags literal credentials', () => {
    const c = parseConfig(
      {
        providers: [
          { id: 'a', type: 'fake', url: 'https://x.example/api', apiKey: '${KEY}' },
          { id: 'b', type: 'fake', url: 'https://y.example', apiKey: 'literal' },
        ],
      },
      { KEY: 'from-env' },
      schemas,
    );
    expect(c.providers[0]).toMatchObject({ apiKey: 'from-env', concurrency: 4 });
    expect(c.literalSecrets).toEqual(['providers[1].apiKey']);
  });

  it.each([
    { case: 'unknown top-level key', doc: { polcy: {} }, path: /\(root\): unknown key\(s\): polcy/ },
    {
      case: 'unknown nested key',
      doc: { policy: { soft: { treshold: 3 } } },
      path: /policy\.soft: unknown key/,
    },
    { case: 'wrong type', doc: { policy: { soft: { threshold: 'five' } } }, path: /policy\.soft\.threshold/ },
    {
      case: 'sender-side category as hard',
      doc: { policy: { hardCategories: ['spam-related'] } },
      path: /policy\.hardCategories\[0\]: sender-side/,
    },
    {
      case: 'unknown category',
      doc: { policy: { hardCategories: ['hard'] } },
      path: /policy\.hardCategories\[0\]: unknown bounce category/,
    },
    {
      case: 'unknown provider type',
      doc: { providers: [{ id: 'x', type: 'nope' }] },
      path: /providers\[0\]\.type: unknown provider type "nope"/,
    },
    {
      case: 'missing provider key',
      doc: { providers: [{ id: 'x', type: 'fake', url: 'https://x.example' }] },
      path: /providers\[0\]\.apiKey/,
    },
    {
      case: 'unknown provider key',
      doc: { providers: [{ id: 'x', type: 'fake', url: 'https://x.example', apiKey: 'k', apikey: 'k' }] },
      path: /providers\[0\]: unknown key\(s\): apikey/,
    },
    {
      case: 'missing variable',
      doc: { providers: [{ id: 'x', type: 'fake', url: 'https://x.example', apiKey: '${NOPE}' }] },
      path: /providers\[0\]\.apiKey: environment variable NOPE is not set/,
    },
    {
      case: 'duplicate provider id',
      doc: {
        providers: [
          { id: 'x', type: 'fake', url: 'https://x.example', apiKey: 'k' },
          { id: 'x', type: 'fake', url: 'https://x.example', apiKey: 'k' },
        ],
      },
      path: /providers\[1\]\.id: duplicate/,
    },
    {
      case: 'bad unsubscribe domain',
      doc: { unsubscribe: { domains: ['not a domain'] } },
      path: /unsubscribe\.domains\[0\]/,
    },
    {
      case: 'headerless fields must start with type',
      doc: { accounting: { fields: 'rcpt,bounceCat' } },
      path: /accounting\.fields/,
    },
  ])('names the key path: $case', ({ doc, path }) => {
    expect(configError(doc)).toMatch(path);
  });

  it('never echoes a variable value in an error', () => {
    const message = configError(
      { providers: [{ id: 'x', type: 'fake', url: '${SECRET}', apiKey: 'k' }] },
      { SECRET: 'canary-9f8e7d' },
    );
    expect(message).not.toContain('canary-9f8e7d');
  });
});

describe('routing by orig', () => {
  const router = createRouter([
    { id: 'mw', type: 'mailwizz', senders: ['News@Example.com', '*@promo.example.com'] },
    { id: 'iem', type: 'interspire', senders: ['iem-*@example.com'] },
    { id: 'all', type: 'webhook' },
  ]);
  it.each([
    { orig: 'news@example.com', ids: ['mw', 'all'] },
    { orig: 'NEWS@EXAMPLE.COM', ids: ['mw', 'all'] },
    { orig: 'deals@promo.example.com', ids: ['mw', 'all'] },
    { orig: 'iem-7@example.com', ids: ['iem', 'all'] },
    { orig: 'other@example.com', ids: ['all'] },
    { orig: 'news@example.com.evil', ids: ['all'] },
    { orig: undefined, ids: ['mw', 'iem', 'all'] },
  ])('$orig → $ids', ({ orig, ids }) => {
    expect(router.forAddress(orig)).toEqual(ids);
  });
  // Several stars, overlapping segments, dots and regex characters taken literally (globMatcher).
  it.each([
    { glob: 'a*b*c', value: 'a-b-c', match: true },
    { glob: 'a*b*c', value: 'abc', match: true },
    { glob: 'a*b*c', value: 'ac', match: false },
    { glob: 'a*a', value: 'a', match: false },
    { glob: '*@*.example.*', value: 'x@mail.example.org', match: true },
    { glob: '*@*.example.*', value: 'x@example.org', match: false },
    { glob: 'b*-*@x.com', value: 'b--@x.com', match: true },
    { glob: 'a.b*', value: 'axb', match: false },
    { glob: 'a+(b)?*', value: 'a+(b)?z', match: true },
    { glob: '*', value: '', match: true },
    { glob: 'x*x*x', value: 'xx', match: false },
  ])('glob $glob on $value: $match', ({ glob, value, match }) => {
    expect(globMatcher(glob)(value)).toBe(match);
  });
  it('sends provider ids only to providers of their type', () => {
    expect(router.forRef({ providerType: 'mailwizz', listId: 'l', subscriberId: 's' }, undefined)).toEqual([
      'mw',
    ]);
  });
});
