/**
 * Recipients as PowerMTA delivers to them (RFC 5321 quoted local parts, RFC 6531 UTF-8 and
 * internationalised domains, address literals), and the original recipient of a record whose
 * `rcpt` is empty (orcpt, header_X-HmXmrOriginalRecipient and the other original-recipient headers).
 */
import { describe, expect, it } from 'vitest';
import { normalizeAddress } from '#core/email-address.ts';
import { readAccounting } from '#test/support/read-accounting.ts';

describe('addresses', () => {
  it.each([
    { input: '"john smith"@example.com', address: '"john smith"@example.com' },
    { input: '<"A\\"B"@Example.org>', address: '"a\\"b"@example.org' },
    { input: '"x@y"@example.com', address: '"x@y"@example.com' },
    { input: 'user@bücher.de', address: 'user@bücher.de' },
    { input: 'Pelé@Exämple.COM', address: 'pelé@exämple.com' },
    { input: '用户@例子.广告', address: '用户@例子.广告' },
    { input: 'user@xn--bcher-kva.de', address: 'user@xn--bcher-kva.de' },
    { input: 'user@[192.0.2.1]', address: 'user@[192.0.2.1]' },
  ])('accepts $input', ({ input, address }) => {
    expect(normalizeAddress(input)).toEqual({ ok: true, address });
  });

  it.each([
    '"unterminated@example.com',
    'a"b@example.com',
    '"a\u0000b"@example.com',
    '"a\nb"@example.com',
    '"ab"x@example.com',
    'a b@example.com',
    'a@b@example.com',
    '@example.com',
    'user@localhost',
    'user@[not-an-ip]',
    `${'a'.repeat(70)}@example.com`,
  ])('rejects %j', (input) => {
    expect(normalizeAddress(input).ok).toBe(false);
  });
});

describe('recipient of a record without rcpt', () => {
  const F_HEADER = 'type,timeLogged,orig,rcpt,feedbackType,header_X-HmXmrOriginalRecipient';

  it('a Hotmail complaint takes header_X-HmXmrOriginalRecipient', () => {
    const [outcome] = readAccounting(
      `${F_HEADER}\nf,1767225600,news@example.com,,abuse,Someone@Hotmail.com\n`,
    );
    expect(outcome).toMatchObject({
      ok: true,
      event: { kind: 'complaint', recipient: 'someone@hotmail.com' },
    });
  });

  it.each([
    { header: 'header_Original-Rcpt-To', value: 'a@example.net' },
    { header: 'header_X-Original-To', value: 'a@example.net' },
    { header: 'header_Original-Recipient', value: 'rfc822;a@example.net' },
  ])('$header is read too', ({ header, value }) => {
    const [outcome] = readAccounting(
      `type,timeLogged,orig,rcpt,feedbackType,${header}\nf,1767225600,n@example.com,,abuse,${value}\n`,
    );
    expect(outcome).toMatchObject({ ok: true, event: { recipient: 'a@example.net' } });
  });

  it('a bounce with an empty rcpt takes orcpt', () => {
    const [outcome] = readAccounting(
      'type,timeLogged,orig,rcpt,orcpt,bounceCat\nb,1767225600,n@example.com,,rfc822;B@example.org,bad-mailbox\n',
    );
    expect(outcome).toMatchObject({ ok: true, event: { recipient: 'b@example.org' } });
  });

  it('a bounce to a quoted local part is decided, a malformed one is still rejected', () => {
    const text = [
      'type,timeLogged,orig,rcpt,bounceCat',
      'b,1767225600,n@example.com,"""john smith""@example.com",bad-mailbox',
      'b,1767225600,n@example.com,"""john smith@example.com",bad-mailbox',
    ].join('\n');
    const [good, bad] = readAccounting(`${text}\n`);
    expect(good).toMatchObject({ ok: true, event: { recipient: '"john smith"@example.com' } });
    expect(bad).toMatchObject({
      ok: false,
      kind: 'rejected',
      reason: expect.stringContaining('rcpt: not an email address'),
    });
  });
});
