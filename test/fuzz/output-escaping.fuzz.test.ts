/**
 * Output escaping under generated hostile values (recipients and diagnostics full of `<`, `"`,
 * CR/LF, `=cmd|`, NUL, bidi controls): the Interspire XML request keeps its structure and the
 * value round-trips; the postmaster digest's subject is one printable line, its text part cannot
 * gain a line or start a cell with a formula, its HTML part has no markup but ours; the
 * `--report` JSON lines are one valid object per record whatever the record held.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import { formatPostmasterDigest } from '#core/notify/postmaster-digest.ts';
import type { PostmasterNotice } from '#core/ports.ts';
import { buildIemRequest, parseXml } from '#providers/interspire/interspire-xml.ts';
import { runs, timeoutFor } from './fuzz-runs.ts';

const HOSTILE = [
  '<',
  '>',
  '"',
  "'",
  '&',
  '\r\n',
  '\n',
  '\r',
  '=cmd|',
  "=cmd|' /C calc'!A0",
  '+',
  '-',
  '@',
  '\u0000',
  '\u202e',
  '\u2028',
  ']]>',
  '</details>',
  '<!DOCTYPE x>',
  '&amp;',
  '\t',
  '\uFFFE',
  '\uD800',
];
const hostile = fc.oneof(
  fc
    .array(fc.oneof(fc.constantFrom(...HOSTILE), fc.string({ maxLength: 6 })), { maxLength: 8 })
    .map((p) => p.join('')),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const XML_UNSAFE = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-fuzz-escape-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('output escaping: fuzz', () => {
  const n = runs();

  it(
    'Interspire XML: the request keeps its elements and every value comes back as sent',
    () => {
      fc.assert(
        fc.property(hostile, hostile, hostile, (email, username, token) => {
          const xml = buildIemRequest({
            username,
            token,
            requestType: 'subscribers',
            requestMethod: 'UnsubscribeSubscriber',
            details: { emailaddress: email, listid: 3 },
          });
          const document = parseXml(xml);
          expect(document.children.map((c) => c.name)).toEqual([
            'username',
            'usertoken',
            'requesttype',
            'requestmethod',
            'details',
          ]);
          const details = document.children[4]!;
          expect(details.children.map((c) => c.name)).toEqual(['emailaddress', 'listid']);
          // Characters XML 1.0 cannot carry become U+FFFD; everything else is exact.
          expect(details.children[0]!.text).toBe(email.replace(XML_UNSAFE, '\uFFFD'));
          expect(document.children[0]!.text).toBe(username.replace(XML_UNSAFE, '\uFFFD'));
          expect(xml).not.toMatch(/[\r]/);
          expect(xml.split('\n')).toHaveLength(3);
        }),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it(
    'postmaster digest: one-line ASCII subject, no forged text lines or formulas, no foreign markup',
    () => {
      const notice = fc.record({
        id: fc.string({ maxLength: 5 }),
        kind: fc.constantFrom('complaint' as const, 'action-failed' as const),
        at: fc.oneof(fc.integer({ min: 0, max: 4_000_000_000_000 }), fc.constant(Number.NaN), fc.double()),
        subject: hostile,
        reason: hostile,
        provider: fc.option(hostile, { nil: undefined }),
        category: fc.option(hostile, { nil: undefined }),
        detail: fc.option(hostile, { nil: undefined }),
        jobId: fc.option(hostile, { nil: undefined }),
      });
      fc.assert(
        fc.property(fc.array(notice, { minLength: 1, maxLength: 4 }), fc.boolean(), (notices, more) => {
          const digest = formatPostmasterDigest(notices as PostmasterNotice[], {
            generatedAt: 1_764_000_000_000,
            more,
          });
          expect(digest.subject).toMatch(/^[\x20-\x7e]{1,200}$/);
          // Text: each notice is a bullet line plus indented "name: value" lines; nothing else.
          for (const line of digest.text.split('\n')) {
            expect(line).not.toMatch(/[\r\u2028\u2029\u0000]/);
            expect(line).toMatch(
              /^(\* \w+: | {2}\w+: |pmta-bounce postmaster digest|More notices|Complaints \(|Failed actions \(|-- $|Sent by pmta-bounce|$)/,
            );
            const value = /^(?:\* | {2})\w+: (.*)$/.exec(line)?.[1];
            if (value !== undefined) expect(value).not.toMatch(/^[=+\-@]/);
          }
          // HTML: with our own tags removed no markup is left, and no attribute can be opened.
          const foreign = digest.html.replace(
            /<\/?(?:!DOCTYPE html|html|head|meta charset="utf-8"|title|body|p|h2|table border="1" cellpadding="4" cellspacing="0"|table|tr|th|td)>/g,
            '',
          );
          expect(foreign).not.toMatch(/[<>"]/);
          expect(digest.html).not.toMatch(/[\r\u0000]/);
        }),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  const m = runs(0.1);
  it(
    '--report JSON lines: one valid object per record, on one line, whatever the record held',
    async () => {
      const field = hostile.map((v) => `"${v.replaceAll('"', '""')}"`);
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(field, field, field, field), { minLength: 1, maxLength: 5 }),
          async (rows) => {
            const text = [
              'type,rcpt,bounceCat,dsnDiag',
              ...rows.map(([rcpt, cat, diag, type], i) =>
                [i % 2 ? 'b' : type, i % 3 ? `"x${i}@example.com"` : rcpt, cat, diag].join(','),
              ),
              '',
            ].join('\n');
            const report = join(dir, 'report.jsonl');
            const out = new PassThrough();
            const err = new PassThrough();
            out.resume();
            err.resume();
            const code = await main(
              ['process', '-', '--dry-run', '--report', report, '--state', join(dir, 'state.db')],
              {
                stdin: Readable.from([text]),
                stdout: out,
                stderr: err,
                env: { PMTA_BOUNCE_CONFIG: '' },
                now: () => 1_764_000_000_000,
              },
            );
            expect(code).toBe(0);
            const written = readFileSync(report, 'utf8');
            expect(written.endsWith('\n')).toBe(true);
            for (const line of written.slice(0, -1).split('\n')) {
              expect(line).not.toMatch(/[\r\u2028\u2029]/);
              const row = JSON.parse(line) as Record<string, unknown>;
              expect(Object.keys(row)).toEqual(
                ['line', 'type', 'recipient', 'category', 'action', 'reason', 'rule'].filter((k) => k in row),
              );
              expect(typeof row.reason).toBe('string');
            }
          },
        ),
        { numRuns: m },
      );
    },
    timeoutFor(m, 60),
  );

  it('a report row keeps a hostile diagnostic and category inert (exact case)', async () => {
    const file = join(dir, 'exact.csv');
    writeFileSync(
      file,
      'type,rcpt,bounceCat\r\nb,a@example.com,"=cmd|\' /C calc\'!A0\r\n<script>""x""</script>"\r\n',
    );
    const report = join(dir, 'exact.jsonl');
    const io = {
      stdin: Readable.from(['']),
      stdout: new PassThrough().resume(),
      stderr: new PassThrough().resume(),
      env: {},
      now: () => 0,
    };
    expect(
      await main(['process', file, '--dry-run', '--report', report, '--state', join(dir, 's.db')], io),
    ).toBe(0);
    const [line, ...rest] = readFileSync(report, 'utf8').split('\n');
    expect(rest).toEqual(['']);
    // Not a PowerMTA category: the rules decide (`other`), and the reason quotes the value as read
    // (lower-cased, JSON-quoted); the JSON line makes it inert once more.
    const row = JSON.parse(line!) as { line: number; category: string; reason: string };
    expect(row.line).toBe(2);
    expect(row.category).toBe('other');
    expect(row.reason).toMatch(
      /bounceCat "=cmd\|' \/c calc'!a0(?:\\r)?\\n<script>\\"x\\"<\/script>" is not a PowerMTA category/,
    );
    expect(line).not.toMatch(/[\r\n]<script>/);
  });
});
