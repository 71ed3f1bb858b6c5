/**
 * Generates realistic PowerMTA accounting records (5.x `*` layout plus a few FBL header fields):
 * mostly hard and soft bounces, some remote bounces, complaints and deliveries, with quoted
 * diagnostics containing commas. Deterministic for a given seed. Used by benchmarks and tests.
 */

const HEADER =
  'type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool,feedbackType,header_X-Mw-Subscriber-Uid,header_List-Id';

const BOUNCES: Array<[string, string, string]> = [
  [
    'bad-mailbox',
    '5.1.1 (bad destination mailbox address)',
    'smtp;550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table',
  ],
  [
    'bad-domain',
    '5.1.2 (bad destination system: no such domain)',
    'smtp;550 5.1.2 Host unknown, Domain not found',
  ],
  [
    'inactive-mailbox',
    '5.2.1 (mailbox disabled, not accepting messages)',
    'smtp;550 5.2.1 The email account that you tried to reach is disabled.',
  ],
  ['quota-issues', '5.2.2 (mailbox full)', 'smtp;552 5.2.2 Mailbox full, quota exceeded, try later'],
  ['message-expired', '4.4.7 (delivery time expired)', 'smtp;421 4.4.7 message expired, no answer'],
  [
    'spam-related',
    '5.7.1 (delivery not authorized, message refused)',
    'smtp;550 5.7.1 Message rejected as spam, see http://postmaster.example/, code 42',
  ],
  [
    'policy-related',
    '5.7.1 (delivery not authorized, message refused)',
    'smtp;554 5.7.1 Policy violation: "sender, not allowed"',
  ],
];

/** Small deterministic PRNG (mulberry32) so runs are comparable. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function csvQuote(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/**
 * `recipients` controls repetition: fewer distinct addresses means more soft-bounce counting.
 * `deliveryShare` is the share of `d` records (default 7 %; 10/11 gives ten deliveries per bounce).
 */
function* generateAccountingLines(
  count: number,
  options: { seed?: number; recipients?: number; deliveryShare?: number } = {},
): Generator<string> {
  const deliveryEnd = 0.03 + (options.deliveryShare ?? 0.07);
  const random = rng(options.seed ?? 1);
  const recipients = options.recipients ?? Math.max(1, Math.floor(count * 0.8));
  const t0 = 1_764_000_000;
  yield HEADER;
  for (let i = 0; i < count; i++) {
    const r = random();
    const rcpt = `user${Math.floor(random() * recipients)}@example${i % 97}.com`;
    const ts = t0 + i;
    const time = new Date(ts * 1000)
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, '+0000');
    const job = `mailwizz-${(i % 1000).toString(36).padStart(13, 'c')}`;
    if (r < 0.03) {
      yield `f,${time},,news@example.com,${rcpt},,,,,,,,,,,,,,vmta1,${job},,,,abuse,,`;
      continue;
    }
    if (r < deliveryEnd) {
      yield `d,${time},${time},news@example.com,${rcpt},,relayed,2.0.0 (success),smtp;250 2.0.0 OK,mx.example.net (192.0.2.10),,smtp,app1 (10.0.0.2),smtp,198.51.100.7,192.0.2.10,"PIPELINING,8BITMIME,SIZE,STARTTLS",${2000 + (i % 5000)},vmta1,${job},,example.com/vmta1,pool1,,,`;
      continue;
    }
    const [cat, status, diag] = BOUNCES[Math.floor(random() * BOUNCES.length)]!;
    const type = r < deliveryEnd + 0.1 ? 'rb' : 'b';
    yield `${type},${time},${time},news@example.com,${rcpt},,failed,${csvQuote(status)},${csvQuote(diag.replace('{rcpt}', rcpt))},mx.example.net (192.0.2.10),${cat},smtp,app1 (10.0.0.2),smtp,198.51.100.7,192.0.2.10,"PIPELINING,8BITMIME,SIZE,STARTTLS",${2000 + (i % 5000)},vmta1,${job},,example.com/vmta1,pool1,,,`;
  }
}

export { generateAccountingLines, HEADER as GENERATED_HEADER };
