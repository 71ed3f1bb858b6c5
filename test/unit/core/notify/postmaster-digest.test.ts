import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHtml } from '#core/escape-html.ts';
import { formatPostmasterDigest, headerSafe, inertText } from '#core/notify/postmaster-digest.ts';
import { complaintNotice, failedActionNotice } from '#core/notify/postmaster-notices.ts';
import type { PostmasterNotice } from '#core/ports.ts';

const AT = Date.UTC(2026, 10, 2, 10, 15, 0);

const complaint: PostmasterNotice = {
  id: 'complaint:k1',
  kind: 'complaint',
  at: AT,
  subject: 'jane@example.com',
  reason: 'complaint feedbackType=abuse: unsubscribe',
  category: 'abuse',
  jobId: 'mailwizz-cmp00000000zz',
};
const failure: PostmasterNotice = {
  id: 'failed:a1:mw',
  kind: 'action-failed',
  at: AT + 60_000,
  subject: 'ref:mailwizz:lq981kz0aa2bc:ab12cd34ef567',
  reason: 'List-Unsubscribe mail: unsubscribe from its list',
  provider: 'mw',
  detail: 'mw: HTTP 400 subscriber list mismatch',
};

describe('inertText', () => {
  it.each([
    { case: 'plain', input: 'jane@example.com', expected: 'jane@example.com' },
    { case: 'empty', input: '', expected: '' },
    { case: 'undefined', input: undefined, expected: '' },
    { case: 'CRLF', input: 'a\r\nBcc: x@evil', expected: 'a\\r\\nBcc: x@evil' },
    { case: 'formula =', input: "=cmd|' /C calc'!A0", expected: "'=cmd|' /C calc'!A0" },
    { case: 'formula +', input: '+1+1', expected: "'+1+1" },
    { case: 'formula -', input: '-2+3', expected: "'-2+3" },
    { case: 'formula @', input: '@SUM(A1)', expected: "'@SUM(A1)" },
    { case: 'NUL and ESC', input: 'a\u0000b\u001b[31m', expected: 'a\\u0000b\\u001b[31m' },
    { case: 'bidi override', input: 'abc\u202edcba', expected: 'abc\\u202edcba' },
    { case: 'line separator', input: 'a\u2028b', expected: 'a\\u2028b' },
    { case: 'unicode kept', input: 'Jürgen — ok', expected: 'Jürgen — ok' },
  ])('$case', ({ input, expected }) => {
    expect(inertText(input)).toBe(expected);
  });

  it('cuts long values', () => {
    expect(inertText('x'.repeat(1000), 10)).toBe('xxxxxxxxxx...');
  });

  it('never leaves a line break or a formula start, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const out = inertText(s);
        expect(out).not.toMatch(/[\r\n\u2028\u2029]/);
        expect(out).not.toMatch(/^[=+\-@]/);
      }),
    );
  });
});

describe('escapeHtml and headerSafe', () => {
  it('escapes markup', () => {
    expect(escapeHtml(`<script>alert("x")</script>&'`)).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;',
    );
  });
  it('headers are one printable line', () => {
    expect(headerSafe('a\r\nBcc: evil@x\u00e9')).toBe('a Bcc: evil@x');
  });
});

describe('formatPostmasterDigest', () => {
  it('one mail with both sections, counts in the subject', () => {
    const d = formatPostmasterDigest([failure, complaint], { generatedAt: AT + 120_000 });
    expect(d.subject).toBe('[pmta-bounce] 1 complaint, 1 failed action (2026-11-02T10:17Z)');
    expect(d.text).toContain('Complaints (1)');
    expect(d.text).toContain('Failed actions (1)');
    expect(d.text).toContain('subject: jane@example.com');
    expect(d.text).toContain('detail: mw: HTTP 400 subscriber list mismatch');
    expect(d.text.indexOf('Complaints')).toBeLessThan(d.text.indexOf('Failed actions'));
    expect(d.html).toContain('<h2>Complaints (1)</h2>');
    expect(d.html).toContain('<td>ref:mailwizz:lq981kz0aa2bc:ab12cd34ef567</td>');
    expect(d.html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('says when more is pending', () => {
    const d = formatPostmasterDigest([complaint], { generatedAt: AT, more: true });
    expect(d.text).toMatch(/follow in the next digest/);
    expect(d.html).toMatch(/follow in the next digest/);
  });

  it('hostile values come out inert in both parts', () => {
    const hostile: PostmasterNotice = {
      id: 'complaint:evil',
      kind: 'complaint',
      at: AT,
      subject: '"><img src=x onerror=alert(1)>@evil.example',
      reason: 'line1\r\nSubject: forged\r\n\r\n<b>body</b>',
      category: "=cmd|' /C calc'!A0",
      detail: "<script>alert('x')</script>\u202e",
      jobId: '@SUM(1+1)',
      provider: '+mw',
    };
    const d = formatPostmasterDigest([hostile], { generatedAt: AT });
    // HTML: no live markup from values, only our own tags.
    expect(d.html).not.toContain('<img');
    expect(d.html).not.toContain('<script');
    expect(d.html).not.toContain('<b>');
    expect(d.html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;@evil.example');
    expect(d.html).toContain('&#39;=cmd|&#39; /C calc&#39;!A0');
    // Text: each notice field stays on its own line; no forged header or blank-line injection.
    expect(d.text).not.toMatch(/^Subject: forged/m);
    expect(d.text).toContain('reason: line1\\r\\nSubject: forged\\r\\n\\r\\n<b>body</b>');
    expect(d.text).toContain("category: '=cmd|' /C calc'!A0");
    expect(d.text).toContain("job: '@SUM(1+1)");
    expect(d.text).toContain("provider: '+mw");
    expect(d.text).toContain('\\u202e');
    expect(d.text).not.toContain('\u202e');
    // The subject is built from counts only.
    expect(d.subject).toBe('[pmta-bounce] 1 complaint, 0 failed actions (2026-11-02T10:15Z)');
  });
});

describe('notice builders', () => {
  it('complaint notice from an event: by address, or by ids when anonymised', () => {
    const event = {
      line: 3,
      recordType: 'f' as const,
      kind: 'complaint' as const,
      recipient: undefined,
      orig: 'news@example.com',
      bounceCat: undefined,
      dsnAction: undefined,
      dsnStatus: undefined,
      dsnDiag: undefined,
      feedbackType: 'abuse',
      jobId: 'j1',
      occurredAt: AT,
      refs: [{ providerType: 'mailwizz', listId: 'lq981kz0aa2bc', subscriberId: 'ab12cd34ef567' }],
      key: 'f|k',
    };
    expect(complaintNotice(event, 'complaint: unsubscribe', 0)).toEqual({
      id: 'complaint:f|k',
      kind: 'complaint',
      at: AT,
      subject: 'ref:mailwizz:lq981kz0aa2bc:ab12cd34ef567',
      reason: 'complaint: unsubscribe',
      category: 'abuse',
      detail: 'sender news@example.com',
      jobId: 'j1',
    });
  });

  it('failed action notice names the provider and its error', () => {
    const n = failedActionNotice(
      {
        v: 1,
        id: 'a@b.c',
        subject: 'a@b.c',
        target: { type: 'email', address: 'a@b.c' },
        kind: 'bounce',
        reason: 'hard',
        providers: ['mw'],
      },
      { provider: 'mw', outcome: 'failed', calls: 1, error: 'HTTP 400', retryable: false, durationMs: 5 },
      AT,
    );
    expect(n).toMatchObject({
      id: 'failed:a@b.c:mw',
      kind: 'action-failed',
      provider: 'mw',
      detail: 'HTTP 400',
    });
  });
});
