/**
 * Test-data builders shared by the tests, the benchmarks (bench/) and the fault matrix: a seeded
 * random generator, PowerMTA timestamps, and realistic accounting records (the PowerMTA 4.5/5.x
 * 23-column layout, docs/powermta.md), and an action as the act function reads it. Seeded so a
 * failing run can be replayed.
 */
import type { Action } from '#core/act/action.ts';

const ACCT_HEADER =
  'type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool';

const BOUNCES = [
  {
    domain: 'gmail.com',
    mx: 'gmail-smtp-in.l.google.com (142.250.27.26)',
    status: '5.1.1 (bad destination mailbox address)',
    cat: 'bad-mailbox',
    diag: (id: string) =>
      `"smtp;550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to https://support.google.com/mail/?p=NoSuchUser ${id} - gsmtp"`,
  },
  {
    domain: 'yahoo.com',
    mx: 'mta7.am0.yahoodns.net (67.195.204.72)',
    status: '5.0.0 (undefined status)',
    cat: 'inactive-mailbox',
    diag: () => "smtp;554 delivery error: dd This user doesn't have a yahoo.com account (554.30)",
  },
  {
    domain: 'outlook.com',
    mx: 'outlook-com.olc.protection.outlook.com (52.101.8.44)',
    status: '5.5.0 (other or undefined protocol status)',
    cat: 'bad-mailbox',
    diag: (id: string) =>
      `"smtp;550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [${id}.eurprd04.prod.outlook.com 2024-05-29T01:10:51.123Z 08DC7F]"`,
  },
  {
    domain: 'example.org',
    mx: 'mx1.example.org (203.0.113.25)',
    status: '4.2.2 (mailbox full)',
    cat: 'quota-issues',
    diag: () => 'smtp;452 4.2.2 Mailbox full',
  },
] as const;

const NAMES = ['john', 'mary', 'ali', 'wei', 'olga', 'pierre', 'ana', 'kenji', 'fatima', 'lars'];

/** mulberry32: tiny seeded PRNG so every run produces the same records for a seed. */
function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function createRecordGenerator(seed = 1): (n: number) => string {
  const rnd = createRandom(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const token = (len: number): string => {
    let s = '';
    for (let i = 0; i < len; i++) s += ALPHABET[Math.floor(rnd() * ALPHABET.length)];
    return s;
  };
  const base = Date.UTC(2024, 4, 29, 1, 0, 0) / 1000;
  const ts = (t: number): string => {
    const d = new Date((t + 7200) * 1000).toISOString();
    return `${d.slice(0, 10)} ${d.slice(11, 19)}+0200`;
  };
  return (n: number): string => {
    const b = pick(BOUNCES);
    const logged = base + Math.floor(n / 50);
    const rcpt = `${pick(NAMES)}.${token(5).toLowerCase()}${Math.floor(rnd() * 1000)}@${b.domain}`;
    const job = `campaign-2024052${n % 7}`;
    const vmta = `vmta-pool1-0${n % 8}`;
    return [
      'b',
      ts(logged),
      ts(logged - 5 - Math.floor(rnd() * 600)),
      'bounces-news@mail.example.com',
      rcpt,
      '',
      'failed',
      b.status,
      b.diag(token(12)),
      b.mx,
      b.cat,
      'smtp',
      'app01.example.com (10.0.0.5)',
      'smtp',
      `10.0.1.${20 + (n % 8)}`,
      b.mx.slice(b.mx.indexOf('(') + 1, -1),
      '"PIPELINING,8BITMIME,SIZE,STARTTLS,ENHANCEDSTATUSCODES"',
      String(8000 + Math.floor(rnd() * 40000)),
      vmta,
      job,
      token(10),
      `${b.domain}/${vmta}`,
      'pool1',
    ].join(',');
  };
}

/** A PowerMTA accounting timestamp (`YYYY-MM-DD HH:MM:SS+0000`) for epoch milliseconds, in UTC. */
function pmtaTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+0000`;
}

interface BounceFields {
  rcpt: string;
  /** Epoch milliseconds of timeLogged (and timeQueued). */
  at: number;
  category?: string;
  status?: string;
  /** Written as it is: quote it when it holds a comma. */
  diag?: string;
  job?: string;
  envId?: string;
  size?: number;
}

/** One hard (or, with a 4.x status, soft) `b` record in the ACCT_HEADER layout. */
function bounceRecord(f: BounceFields): string {
  const t = pmtaTime(f.at);
  return [
    'b',
    t,
    t,
    'news@example.com',
    f.rcpt,
    '',
    'failed',
    f.status ?? '5.1.1 (bad destination mailbox address)',
    f.diag ?? '"smtp;550 5.1.1 no such user, sorry"',
    'mx.example.net (192.0.2.1)',
    f.category ?? 'bad-mailbox',
    'smtp',
    'app01 (10.0.0.5)',
    'smtp',
    '10.0.1.20',
    '192.0.2.1',
    'yes',
    String(f.size ?? 1234),
    'vmta1',
    f.job ?? 'job-1',
    f.envId ?? '',
    'example.net/vmta1',
    'pool1',
  ].join(',');
}

/** The layout of generateAccountingLines: PowerMTA 5.x `*` plus a few FBL header fields. */
const GENERATED_HEADER =
  'type,timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool,feedbackType,header_X-Mw-Subscriber-Uid,header_List-Id';

const GENERATED_BOUNCES: Array<[string, string, string]> = [
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

function csvQuote(v: string): string {
  return /[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v;
}

/**
 * Realistic records, mostly hard and soft bounces, some remote bounces, complaints and
 * deliveries, with quoted diagnostics containing commas. `recipients` controls repetition: fewer
 * distinct addresses means more soft-bounce counting. `deliveryShare` is the share of `d` records (default 7 %; 10/11 gives ten deliveries per bounce).
 */
function* generateAccountingLines(
  count: number,
  options: { seed?: number; recipients?: number; deliveryShare?: number } = {},
): Generator<string> {
  const deliveryEnd = 0.03 + (options.deliveryShare ?? 0.07);
  const random = createRandom(options.seed ?? 1);
  const recipients = options.recipients ?? Math.max(1, Math.floor(count * 0.8));
  const t0 = 1_764_000_000;
  yield GENERATED_HEADER;
  for (let i = 0; i < count; i++) {
    const r = random();
    const rcpt = `user${Math.floor(random() * recipients)}@example${i % 97}.com`;
    const ts = t0 + i;
    const time = pmtaTime(ts * 1000);
    const job = `mailwizz-${(i % 1000).toString(36).padStart(13, 'c')}`;
    if (r < 0.03) {
      yield `f,${time},,news@example.com,${rcpt},,,,,,,,,,,,,,vmta1,${job},,,,abuse,,`;
      continue;
    }
    if (r < deliveryEnd) {
      yield `d,${time},${time},news@example.com,${rcpt},,relayed,2.0.0 (success),smtp;250 2.0.0 OK,mx.example.net (192.0.2.10),,smtp,app1 (10.0.0.2),smtp,198.51.100.7,192.0.2.10,"PIPELINING,8BITMIME,SIZE,STARTTLS",${2000 + (i % 5000)},vmta1,${job},,example.com/vmta1,pool1,,,`;
      continue;
    }
    const [cat, status, diag] = GENERATED_BOUNCES[Math.floor(random() * GENERATED_BOUNCES.length)]!;
    const type = r < deliveryEnd + 0.1 ? 'rb' : 'b';
    yield `${type},${time},${time},news@example.com,${rcpt},,failed,${csvQuote(status)},${csvQuote(diag.replace('{rcpt}', rcpt))},mx.example.net (192.0.2.10),${cat},smtp,app1 (10.0.0.2),smtp,198.51.100.7,192.0.2.10,"PIPELINING,8BITMIME,SIZE,STARTTLS",${2000 + (i % 5000)},vmta1,${job},,example.com/vmta1,pool1,,,`;
  }
}

/** A hard-bounce action for one address (functions/core/act/action.ts); `over` replaces fields. */
function hardBounceAction(address: string, over: Partial<Action> & Record<string, unknown> = {}): Action {
  return {
    v: 1,
    id: address,
    subject: address,
    target: { type: 'email', address },
    kind: 'bounce',
    reason: 'hard',
    providers: [],
    ...over,
  };
}

export type { BounceFields };
export {
  ACCT_HEADER,
  bounceRecord,
  createRandom,
  createRecordGenerator,
  GENERATED_BOUNCES,
  GENERATED_HEADER,
  generateAccountingLines,
  hardBounceAction,
  pmtaTime,
};
