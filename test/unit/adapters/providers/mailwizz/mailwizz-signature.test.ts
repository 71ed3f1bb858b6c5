import { describe, expect, it } from 'vitest';
import { mailwizzStringToSign, signMailwizzRequest } from '#providers/mailwizz/mailwizz-signature.ts';
import { buildSortedQuery, phpUrlEncode } from '#providers/mailwizz/php-form-encoding.ts';

const PUBLIC = 'a'.repeat(40);
const PRIVATE = 'b'.repeat(40);
const BASE = 'https://mw.example.com/api';
const EMAIL = 'john.doe+x@example.com';
const KEYS = `X-MW-PUBLIC-KEY=${PUBLIC}&X-MW-REMOTE-ADDR=&X-MW-TIMESTAMP=1700000000`;

// Every test vector of docs/provider-apis.md §1.2, verbatim.
const vectors = [
  {
    case: 'GET lists with paging',
    method: 'GET',
    url: `${BASE}/lists`,
    query: { page: 1, per_page: 10 },
    body: {},
    stringToSign: `GET ${BASE}/lists?page=1&per_page=10&${KEYS}`,
    signature: '48b570e03c121970de5b8949f71fd052d59f7280',
  },
  {
    case: 'GET search-by-email with an encoded EMAIL',
    method: 'GET',
    url: `${BASE}/lists/ab123cd45ef67/subscribers/search-by-email`,
    query: { EMAIL },
    body: {},
    stringToSign: `GET ${BASE}/lists/ab123cd45ef67/subscribers/search-by-email?EMAIL=john.doe%2Bx%40example.com&${KEYS}`,
    signature: '01688b873fec9122e965807358e9d456a9dd25fc',
  },
  {
    case: 'PUT unsubscribe with an empty body',
    method: 'PUT',
    url: `${BASE}/lists/ab123cd45ef67/subscribers/cd456ef78ab90/unsubscribe`,
    query: {},
    body: {},
    stringToSign: `PUT ${BASE}/lists/ab123cd45ef67/subscribers/cd456ef78ab90/unsubscribe?${KEYS}`,
    signature: '744aa3066767b1bdb24fbbdd485500843d28cd0d',
  },
  {
    case: 'PUT unsubscribe-by-email-from-all-lists with EMAIL in the body',
    method: 'PUT',
    url: `${BASE}/lists/subscribers/unsubscribe-by-email-from-all-lists`,
    query: {},
    body: { EMAIL },
    stringToSign: `PUT ${BASE}/lists/subscribers/unsubscribe-by-email-from-all-lists?EMAIL=john.doe%2Bx%40example.com&${KEYS}`,
    signature: '36a3a94087973868fbbbb3d023ddec432520fa2b',
  },
  {
    case: 'PUT update with a nested details[status]',
    method: 'PUT',
    url: `${BASE}/lists/ab123cd45ef67/subscribers/cd456ef78ab90`,
    query: {},
    body: { EMAIL, details: { status: 'blacklisted' } },
    stringToSign: `PUT ${BASE}/lists/ab123cd45ef67/subscribers/cd456ef78ab90?EMAIL=john.doe%2Bx%40example.com&${KEYS}&details%5Bstatus%5D=blacklisted`,
    signature: '4e2228080a3a423591bd8b40ca714b80cb823e88',
  },
];

describe('MailWizz v1 signature (docs/provider-apis.md §1.2 test vectors)', () => {
  it.each(vectors)('$case', (v) => {
    const input = {
      method: v.method,
      url: v.url,
      query: v.query,
      body: v.body,
      publicKey: PUBLIC,
      timestamp: 1700000000,
    };
    expect(mailwizzStringToSign(input)).toBe(v.stringToSign);
    expect(signMailwizzRequest(input, PRIVATE)).toBe(v.signature);
  });

  it('changes when the private key differs', () => {
    const v = vectors[0]!;
    const input = {
      method: v.method,
      url: v.url,
      query: v.query,
      body: v.body,
      publicKey: PUBLIC,
      timestamp: 1,
    };
    expect(signMailwizzRequest(input, PRIVATE)).not.toBe(signMailwizzRequest(input, 'c'.repeat(40)));
  });
});

describe('PHP form encoding', () => {
  it.each([
    { input: 'a b', expected: 'a+b' },
    { input: '@+~*[]', expected: '%40%2B%7E%2A%5B%5D' },
    { input: "!'()", expected: '%21%27%28%29' },
    { input: 'A-z_0.9', expected: 'A-z_0.9' },
    { input: 'é', expected: '%C3%A9' },
  ])('urlencode($input) = $expected', ({ input, expected }) => {
    expect(phpUrlEncode(input)).toBe(expected);
  });

  it('sorts keys in byte order (uppercase first), skips null, maps booleans to 1/0', () => {
    expect(buildSortedQuery({ b: 1, a: true, Z: false, n: null })).toBe('Z=0&a=1&b=1');
  });
});
