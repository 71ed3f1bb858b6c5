import { describe, expect, it } from 'vitest';
import { PMTA4_DEFAULT_FIELDS, PMTA5_DEFAULT_FIELDS } from '#core/accounting/accounting-layout.ts';
import type { MailEvent, ParseOutcome } from '#core/mail-event.ts';
import { readAccounting } from '#test/support/read-accounting.ts';

function events(out: ParseOutcome[]): MailEvent[] {
  return out.flatMap((o) => (o.ok ? [o.event] : []));
}

function row(fields: readonly string[], values: Record<string, string>): string {
  return fields.map((f) => values[f] ?? '').join(',');
}

const B = {
  type: 'b',
  timeLogged: '2016-05-29 01:10:51+0200',
  orig: 'news@example.com',
  rcpt: 'User@Example.com',
  bounceCat: 'bad-mailbox',
  dsnStatus: '5.1.1 (bad destination mailbox address)',
  jobId: 'job1',
};

describe('accounting layouts', () => {
  it.each([
    {
      case: 'header line (seed README order)',
      text: 'type,timeQueued,bounceCat,vmta,orig,rcpt\nb,2016-05-29 01:10:51+0200,bad-domain,v1,mw@example.com,X@domain.com\n',
    },
    {
      case: 'PowerMTA 5.x default, no header (23 columns)',
      text: `${row(PMTA5_DEFAULT_FIELDS, { ...B, rcpt: 'x@domain.com', bounceCat: 'bad-domain' })}\n`,
    },
    {
      case: 'PowerMTA 4.0 default, no header (22 columns)',
      text: `${row(PMTA4_DEFAULT_FIELDS, { ...B, rcpt: 'x@domain.com', bounceCat: 'bad-domain' })}\n`,
    },
    { case: 'CRLF line endings', text: 'type,rcpt,bounceCat\r\nb,x@domain.com,bad-domain\r\n' },
    { case: 'no trailing newline', text: 'type,rcpt,bounceCat\nb,x@domain.com,bad-domain' },
    { case: 'BOM before the header', text: '\uFEFFtype,rcpt,bounceCat\nb,x@domain.com,bad-domain\n' },
  ])('reads $case', ({ text }) => {
    const [event] = events(readAccounting(text));
    expect(event).toMatchObject({
      recordType: 'b',
      recipient: 'x@domain.com',
      bounceCat: 'bad-domain',
      kind: 'bounce',
    });
  });

  it('uses a configured field list for headerless input', () => {
    const [event] = events(
      readAccounting('b,bad-mailbox,x@y.com\n', { fields: ['type', 'bounceCat', 'rcpt'] }),
    );
    expect(event).toMatchObject({ recipient: 'x@y.com', bounceCat: 'bad-mailbox' });
  });

  it('follows a header change mid-stream, and a header overrides the configured fields', () => {
    const text = [
      'type,rcpt,bounceCat',
      'b,a@x.com,bad-mailbox',
      'type,bounceCat,orig,rcpt',
      'b,bad-domain,o@x.com,b@x.com',
      'b,quota-issues,o@x.com,c@x.com',
    ].join('\n');
    const got = events(readAccounting(text, { fields: ['type', 'orig'] }));
    expect(got.map((e) => [e.line, e.recipient, e.bounceCat, e.orig])).toEqual([
      [2, 'a@x.com', 'bad-mailbox', undefined],
      [4, 'b@x.com', 'bad-domain', 'o@x.com'],
      [5, 'c@x.com', 'quota-issues', 'o@x.com'],
    ]);
  });

  it('applies the union-of-columns rule (empty fields where a type lacks a column)', () => {
    const text =
      'type,timeLogged,orig,rcpt,dlvSourceIp,bounceCat\r\nd,1178807903,orig@port25.com,user1@domain.com,10.0.0.1,\r\nb,1178807915,orig@port25.com,user3@domain.com,,policy-related\r\n';
    const out = readAccounting(text);
    expect(out[0]).toMatchObject({
      ok: false,
      kind: 'ignored',
      recordType: 'd',
      recipient: 'user1@domain.com',
    });
    expect(out[1]).toMatchObject({
      ok: true,
      event: { bounceCat: 'policy-related', occurredAt: 1178807915000 },
    });
  });

  it('keeps quoted commas, doubled quotes and newlines inside fields', () => {
    const text =
      'type,rcpt,dsnDiag,bounceCat\nb,a@x.com,"smtp;550 5.1.1 ""a@x.com"", no such user\r\nsecond line",bad-mailbox\nb,b@x.com,plain,bad-mailbox\n';
    const got = events(readAccounting(text, { chunk: 3 }));
    expect(got[0]?.dsnDiag).toBe('smtp;550 5.1.1 "a@x.com", no such user\nsecond line');
    expect(got.map((e) => e.line)).toEqual([2, 4]);
  });

  it('reads header_* columns and the record types', () => {
    const text = [
      'type,rcpt,bounceCat,dsnAction,feedbackType',
      'b,a@x.com,bad-mailbox,failed,',
      'rb,b@x.com,bad-mailbox,failed,',
      'rb,c@x.com,,delayed,',
      'f,d@x.com,,,abuse',
      'd,e@x.com,,,',
      't,f@x.com,,,',
      'tq,,,,',
      'r,g@x.com,,,',
      'rs,h@x.com,,,',
    ].join('\n');
    const out = readAccounting(text);
    expect(out.map((o) => (o.ok ? `${o.event.recordType}:${o.event.kind}` : `${o.kind}`))).toEqual([
      'b:bounce',
      'rb:bounce',
      'ignored',
      'f:complaint',
      'ignored',
      'ignored',
      'ignored',
      'ignored',
      'ignored',
    ]);
  });
});

describe('timestamps', () => {
  it.each([
    '2016-13-29 01:10:51+0200',
    '2016-05-29 24:10:51+0200',
    '2016-05-29 01:10:51+0260',
    '2016-05-29 01:10:51*0200',
    '2016-05-29 01:1x:51+0200',
  ])('rejects %s', (value) => {
    const [out] = readAccounting(`type,timeLogged,rcpt,bounceCat\nb,${value},a@x.com,bad-mailbox\n`);
    expect(out).toMatchObject({
      ok: false,
      kind: 'rejected',
      reason: expect.stringMatching(/not a timestamp/),
    });
  });

  it.each([
    { value: '1178807915', ms: 1178807915000 },
    { value: '2016-05-29 01:10:51+0200', ms: Date.UTC(2016, 4, 28, 23, 10, 51) },
    { value: '2016-05-29T01:10:51Z', ms: Date.UTC(2016, 4, 29, 1, 10, 51) },
    { value: '2016-05-29T01:10:51-05:30', ms: Date.UTC(2016, 4, 29, 6, 40, 51) },
    { value: '2016-05-29 01:10:51', ms: Date.UTC(2016, 4, 29, 1, 10, 51) },
    { value: '2016-05-29 01:10:51-0530', ms: Date.UTC(2016, 4, 29, 6, 40, 51) },
    { value: '2016-12-31t23:59:60+0000', ms: Date.UTC(2017, 0, 1, 0, 0, 0) },
    { value: ' 2016-05-29 01:10:51+0200 ', ms: Date.UTC(2016, 4, 28, 23, 10, 51) },
  ])('reads timeLogged $value', ({ value, ms }) => {
    const [event] = events(
      readAccounting(`type,timeLogged,rcpt,bounceCat\nb,${value},a@x.com,bad-mailbox\n`),
    );
    expect(event?.occurredAt).toBe(ms);
  });
});

describe("plain address CSV (the PHP bouncehandler's standalone mode)", () => {
  it('is detected from the first record and takes the first column', () => {
    const out = readAccounting('Someone@Example.com,extra\nsecond@example.com\nb,not-an-email\n');
    expect(out.map((o) => (o.ok ? o.event.recipient : o.kind))).toEqual([
      'someone@example.com',
      'second@example.com',
      'rejected',
    ]);
    expect(out.every((o) => !o.ok || o.event.kind === 'manual')).toBe(true);
  });
  it('skips an "email" header', () => {
    const out = readAccounting('email\na@example.com\n');
    expect(out).toHaveLength(1);
  });
  it('does not switch mode per line: an accounting stream stays one', () => {
    const out = readAccounting('type,rcpt,bounceCat\nb,a@x.com,bad-mailbox\nz@x.com\n');
    expect(out[1]).toMatchObject({ ok: false, kind: 'rejected', line: 3 });
  });
});

describe('rejects: every reason, with line numbers, never an exception', () => {
  const header = 'type,timeLogged,rcpt,bounceCat,feedbackType';
  it.each([
    { case: 'unknown record type', line: 'fbl,1178807915,a@x.com,,', reason: /unknown record type "fbl"/ },
    { case: 'missing rcpt', line: 'b,1178807915,,bad-mailbox,', reason: /rcpt missing/ },
    {
      case: 'invalid rcpt',
      line: 'b,1178807915,not-an-address,bad-mailbox,',
      reason: /rcpt: not an email address/,
    },
    {
      case: 'bad timestamp',
      line: 'b,yesterday,a@x.com,bad-mailbox,',
      reason: /timeLogged: not a timestamp/,
    },
    {
      case: 'too many fields',
      line: 'b,1178807915,a@x.com,bad-mailbox,,extra',
      reason: /6 fields but the layout in force \(header\) has 5/,
    },
    {
      case: 'complaint without recipient or ids',
      line: 'f,1178807915,,,abuse',
      reason: /complaint without a usable recipient: rcpt is empty/,
    },
    {
      case: 'complaint with anonymised rcpt and no ids',
      line: 'f,1178807915,redacted@x.com,,abuse',
      reason: /rcpt is anonymised/,
    },
  ])('$case', ({ line, reason }) => {
    const [out] = readAccounting(`${header}\n${line}\n`);
    expect(out).toMatchObject({ ok: false, kind: 'rejected', line: 2, raw: line });
    expect(out?.ok === false && out.kind === 'rejected' && out.reason).toMatch(reason);
  });

  it('an oversized record is one reject and the stream goes on', () => {
    const huge = `b,1178807915,${'q'.repeat(300_000)}@x.com,bad-mailbox,`;
    const out = readAccounting(`${header}\n${huge}\nb,1178807915,ok@x.com,bad-mailbox,\n`, { chunk: 65536 });
    expect(out[0]).toMatchObject({
      ok: false,
      kind: 'rejected',
      line: 2,
      reason: expect.stringMatching(/longer than/),
    });
    expect(out[1]).toMatchObject({ ok: true, event: { line: 3, recipient: 'ok@x.com' } });
  });

  it('an unbalanced quote costs its own lines, not the rest of the stream', () => {
    const lines = [header, 'b,"1178807915,a@x.com,bad-mailbox,'];
    for (let i = 0; i < 150; i++) lines.push(`b,1178807915,u${i}@x.com,bad-mailbox,`);
    const out = readAccounting(`${lines.join('\n')}\n`, { chunk: 4096 });
    expect(out[0]).toMatchObject({
      ok: false,
      kind: 'rejected',
      line: 2,
      reason: expect.stringMatching(/unbalanced quote/),
    });
    const ok = out.filter((o) => o.ok);
    expect(ok).toHaveLength(150);
    expect(ok[0]).toMatchObject({ event: { line: 3 } });
  });

  it('invalid UTF-8 and NUL bytes are read, not fatal', () => {
    const bytes = Buffer.concat([
      Buffer.from(`${header}\nb,1178807915,a@x.com,bad-mailbox,\n`),
      Buffer.from([0xff, 0xfe, 0x00, 0x2c, 0x0a]),
      Buffer.from('b,1178807915,b@x.com,bad-mailbox,\n'),
    ]);
    const out = readAccounting(bytes);
    expect(out.filter((o) => o.ok).map((o) => o.ok && o.event.recipient)).toEqual(['a@x.com', 'b@x.com']);
    expect(out[1]).toMatchObject({ ok: false, kind: 'rejected', line: 3 });
  });
});

describe('dedupe keys', () => {
  it('are case-insensitive on the recipient and stable across layouts', () => {
    const a = events(
      readAccounting('type,timeLogged,rcpt,bounceCat,jobId\nb,1178807915,A@X.com,bad-mailbox,j\n'),
    )[0]!;
    const b = events(
      readAccounting('type,jobId,bounceCat,rcpt,timeLogged\nb,j,bad-mailbox,a@x.COM,1178807915\n'),
    )[0]!;
    expect(a.key).toBe(b.key);
  });
});
