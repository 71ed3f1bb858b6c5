/**
 * Untrusted text is parsed in linear time (docs/security.md, "Regular expressions on input"). Each
 * parser that sees outside text gets a pathological value built to make a backtracking pattern
 * explode (many `<` without `>`, long runs just short of a match, ...), at sizes doubling up to
 * 1 MiB. Linear construction, generous bounds: any single run over RUN_LIMIT_MS fails at once (a
 * quadratic parser blows it by 128 KiB), and 1 MiB may take at most GROWTH_LIMIT times 512 KiB.
 */
import { describe, expect, it } from 'vitest';
import { parseIemResponse } from '#adapters/providers/interspire/interspire-xml.ts';
import { parseRetryAfter } from '#adapters/providers/retry-after.ts';
import { createAccountingParser } from '#core/accounting/accounting-parser.ts';
import { parseTimestamp } from '#core/accounting/timestamp.ts';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { createClassifier } from '#core/classify/classify.ts';
import { createRouter } from '#core/decide/routing.ts';
import { normalizeAddress } from '#core/email-address.ts';
import { decodeEnvelope } from '#core/envelope/envelope.ts';
import { decideInboundUnsubscribe } from '#core/unsubscribe/inbound-unsubscribe.ts';
import { parseAddressList, parseMailHeaders } from '#core/unsubscribe/mail-headers.ts';
import { extractProviderRefs } from '#core/unsubscribe/provider-refs.ts';
import { sqsErrorFrom } from '../../shipper/sqs/sqs-errors.ts';

const KIB = 1024;
const SIZES = [32 * KIB, 64 * KIB, 128 * KIB, 256 * KIB, 512 * KIB, 1024 * KIB];
/** One run of any parser on any of the sizes; quadratic parsers pass it between 64 and 128 KiB. */
const RUN_LIMIT_MS = 3000;
/** 2x the input may cost at most this many times the time (linear: ~2; quadratic: 4). */
const GROWTH_LIMIT = 3.5;
/** Times below this are noise on a shared machine: the growth check uses at least this. */
const NOISE_MS = 50;

/** Repeats `unit` to (about) n characters. */
const fill = (unit: string, n: number): string => unit.repeat(Math.max(1, Math.floor(n / unit.length)));

function timeOnce(run: () => unknown): number {
  const started = performance.now();
  run();
  return performance.now() - started;
}

/** Best of three: the least disturbed by the other processes on the machine. */
function timeBest(run: () => unknown): number {
  return Math.min(timeOnce(run), timeOnce(run), timeOnce(run));
}

const classify = createClassifier({ builtin: BUILTIN_RULES });
const router = createRouter([{ id: 'mw', type: 'mailwizz', senders: ['*@*.example.*', 'bounce-*@*'] }]);
const codec = { gunzipBase64: (b: string) => b, unbrotliBase64: (b: string) => b };

function accountingF(fields: Record<string, string>): void {
  const parser = createAccountingParser();
  const names = ['type', 'timeLogged', 'rcpt', 'orig', ...Object.keys(fields)];
  parser.parse(names, 1, '');
  parser.parse(['f', '2026-01-01 00:00:00+0000', '', 'a@b.example', ...Object.values(fields)], 2, '');
}

const PARSERS: ReadonlyArray<{ name: string; run: (n: number) => unknown }> = [
  {
    name: 'header_List-Id of "<" without ">" (provider-refs)',
    run: (n) => extractProviderRefs(new Map([['list-id', fill('<', n)]])),
  },
  {
    name: 'header_List-Unsubscribe of near-miss URLs and mailtos (provider-refs)',
    run: (n) =>
      extractProviderRefs(
        new Map([
          [
            'list-unsubscribe',
            fill('/lists/aaaaaaaaaaaaa/unsubscribe/aaaaaaaaaaaaa/mailto:aaaaaaaaaaaaa.', n),
          ],
        ]),
      ),
  },
  {
    name: 'header_Feedback-ID of ":" (provider-refs)',
    run: (n) => extractProviderRefs(new Map([['feedback-id', fill(':', n)]])),
  },
  {
    name: 'an f record whose header_* fields are all hostile (accounting parser)',
    run: (n) =>
      accountingF({
        'header_List-Id': fill('<', n),
        'header_List-Unsubscribe': fill('<mailto:', n),
        'header_Feedback-ID': fill('a:', n),
        'header_X-Mw-Subscriber-Uid': fill(' ', n),
      }),
  },
  {
    name: 'dsnDiag of near-miss phrases (classify)',
    run: (n) =>
      classify({
        dsnStatus: fill('5.', n),
        dsnDiag: `${fill("no such doesn't have a account name user ", n)}${fill('x', n)}`,
      }),
  },
  { name: 'rcpt of dots and @ (email address)', run: (n) => normalizeAddress(fill('a.@', n)) },
  {
    name: 'timeLogged followed by spaces (timestamp)',
    run: (n) => parseTimestamp(`2026-01-01 00:00:00${fill(' ', n)}x`),
  },
  {
    name: 'orig against two-wildcard sender globs (routing)',
    run: (n) => router.forAddress(fill('@', n)),
  },
  {
    name: 'a header block of one long value and endless folds (mail headers)',
    run: (n) => parseMailHeaders(`To: ${fill('a', n)}\r\n${fill(' x\r\n', n)}\r\n`),
  },
  {
    name: 'address lists of "<", "(" and quotes (mail headers)',
    run: (n) => [
      parseAddressList(fill('<', n)),
      parseAddressList(fill('(', n)),
      parseAddressList(fill('"a', n)),
    ],
  },
  {
    name: 'a SES recipient of 1 MiB (inbound unsubscribe)',
    run: (n) =>
      decideInboundUnsubscribe(
        { recipients: [fill('a.', n)], verdicts: {}, mailId: 'm', receivedAt: 0 },
        { domains: ['unsub.example.com'], scope: 'list', router },
      ),
  },
  {
    name: 'an SQS body whose b64 line is almost base64 (envelope)',
    run: (n) =>
      decodeEnvelope(
        JSON.stringify({
          v: 1,
          source: 'pmta-shipper',
          host: 'h',
          stream: 's',
          seq: 0,
          lines: [`${fill('AAAA', n)}A=A`],
          b64: [0],
        }),
        undefined,
        codec,
      ),
  },
  { name: 'a provider Retry-After header (providers)', run: (n) => parseRetryAfter(fill('1 a', n), 0) },
  {
    name: 'an Interspire XML answer of "<" and entities (providers)',
    run: (n) => {
      try {
        return parseIemResponse(`<response><status>FAILED</status><errormessage>${fill('<&#x', n)}`);
      } catch {
        return undefined;
      }
    },
  },
  {
    name: 'an SQS error answer (shipper)',
    run: (n) =>
      sqsErrorFrom(
        400,
        { 'x-amzn-query-error': `${fill('AWS.SimpleQueueService.', n)};Sender` },
        Buffer.from(JSON.stringify({ message: fill('too long denied ', n) })),
        [],
      ),
  },
];

describe('untrusted text is parsed in linear time', () => {
  it.each(PARSERS)('$name', ({ run }) => {
    const times: number[] = [];
    for (const size of SIZES) {
      const ms = timeOnce(() => run(size));
      expect(ms, `${size / KIB} KiB took ${ms.toFixed(0)} ms`).toBeLessThan(RUN_LIMIT_MS);
      times.push(ms);
    }
    const half = timeBest(() => run(SIZES.at(-2)!));
    const full = timeBest(() => run(SIZES.at(-1)!));
    expect(
      full / Math.max(half, NOISE_MS),
      `512 KiB ${half.toFixed(1)} ms, 1 MiB ${full.toFixed(1)} ms (single runs: ${times.map((t) => t.toFixed(0)).join(', ')})`,
    ).toBeLessThan(GROWTH_LIMIT);
  });
});

describe('header_* fields are cut at 998 characters before any pattern runs', () => {
  const L = 'lq981kz0aa2bc';
  const S = 'ab12cd34ef567';
  const C = 'cmp00000000zz';
  it.each([
    { at: 0, found: true },
    { at: 998 - `<https://mw.example.com/lists/${L}/unsubscribe/${C}/${S}>`.length, found: true },
    { at: 998, found: false },
  ])('a List-Unsubscribe URL starting at $at: found $found', ({ at, found }) => {
    const value = `${' '.repeat(at)}<https://mw.example.com/lists/${L}/unsubscribe/${C}/${S}>`;
    const refs = extractProviderRefs(new Map([['list-unsubscribe', value]]));
    expect(refs.length > 0).toBe(found);
  });
});
