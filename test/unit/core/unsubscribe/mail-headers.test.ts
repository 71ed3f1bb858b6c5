import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { headerValue, parseAddressList, parseMailHeaders } from '#core/unsubscribe/mail-headers.ts';

const ICLOUD = readFileSync(new URL('../../../fixtures/eml/sisimai-arf-26.eml', import.meta.url), 'utf8');

describe('parseMailHeaders', () => {
  it('reads the iCloud unsubscribe mail up to the body, unfolding', () => {
    const { headers, truncated } = parseMailHeaders(ICLOUD);
    expect(truncated).toBe(false);
    expect(headerValue(headers, 'to')).toBe('opt-out-100731.e75std53hz8rnmy4r@example.org');
    expect(headerValue(headers, 'Message-Id')).toBe('<898B6152-36BC-4F4B-ABF8-2694A88CB5FC@icloud.com>');
    expect(headerValue(headers, 'DKIM-Signature')).toMatch(/^v=1; a=rsa-sha256; .* b=Aoov.*QA==$/);
    expect(headerValue(headers, 'X-Virus-Status')).toBe('Clean');
    // The body line "Apple Mail sent this email ..." is not a header.
    expect(headers.some((h) => /Apple Mail/.test(h.value))).toBe(false);
  });

  it('CRLF line endings and no body', () => {
    const { headers, truncated } = parseMailHeaders('To: a@b.c\r\nSubject: x\r\n y\r\n');
    expect(headers).toEqual([
      { name: 'To', value: 'a@b.c' },
      { name: 'Subject', value: 'x y' },
    ]);
    expect(truncated).toBe(true);
  });

  it('bounds header count and value length', () => {
    const many = `${Array.from({ length: 300 }, (_, i) => `X-H${i}: ${'v'.repeat(10)}`).join('\n')}\n\n`;
    const out = parseMailHeaders(many, { maxHeaders: 5, maxValueLength: 4 });
    expect(out.headers).toHaveLength(5);
    expect(out.headers[0]?.value).toBe('vvvv');
    expect(out.truncated).toBe(true);
  });

  it('never throws', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (s) => {
        expect(Array.isArray(parseMailHeaders(s).headers)).toBe(true);
      }),
    );
  });
});

describe('parseAddressList', () => {
  it.each([
    { case: 'bare', input: 'a@b.c', expected: ['a@b.c'] },
    { case: 'display name', input: '"Doe, Jane" <jane@x.org>', expected: ['jane@x.org'] },
    {
      case: 'list',
      input: 'a@b.c, "X" <x@y.z>,k@l.m (comment, here)',
      expected: ['a@b.c', 'x@y.z', 'k@l.m'],
    },
    { case: 'group-less garbage', input: 'undisclosed recipients', expected: [] },
    { case: 'empty', input: '', expected: [] },
  ])('$case', ({ input, expected }) => {
    expect(parseAddressList(input)).toEqual(expected);
  });
});
