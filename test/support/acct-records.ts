/**
 * Deterministic, realistic PowerMTA accounting records (PMTA 4.5/5.x 23-column layout) for the
 * shipper's tests and benchmark. Seeded so a failing run can be replayed.
 */

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

export { ACCT_HEADER, createRandom, createRecordGenerator };
