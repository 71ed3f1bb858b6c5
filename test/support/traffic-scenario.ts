/**
 * A generated accounting file with known deliverability counts (docs/guardrails.md): deliveries,
 * hard and soft bounces, complaints per sending domain, and one block burst at Gmail through one
 * VirtualMTA. `expected` is what `report --json` must show for it.
 */

const B_HEADER = 'type,timeLogged,orig,rcpt,dsnAction,dsnStatus,dsnDiag,bounceCat,vmta,jobId';
const F_HEADER = 'type,timeLogged,orig,rcpt,feedbackType,jobId';

interface Counts {
  deliveries: number;
  hard: number;
  soft: number;
  complaints: number;
}

/** Sending domain → counts on 2026-11-20; recipients spread over gmail/yahoo/outlook/web.de. */
const DOMAINS: Record<string, Counts> = {
  'news.example.com': { deliveries: 2000, hard: 20, soft: 8, complaints: 4 }, // 0.20 %: warn
  'shop.example.com': { deliveries: 1000, hard: 10, soft: 4, complaints: 5 }, // 0.50 %: critical
  'mail.example.net': { deliveries: 1000, hard: 0, soft: 0, complaints: 0 }, // ok
  'alerts.example.org': { deliveries: 0, hard: 0, soft: 0, complaints: 2 }, // no deliveries: no rate
};

/** The block burst: 40 spam blocks + 20 deliveries at gmail via vmta-burst within 10:00-10:59Z. */
const BURST = { vmta: 'vmta-burst', domain: 'news.example.com', blocks: 40, deliveries: 20 };

const MAILBOX_DOMAINS = ['gmail.com', 'yahoo.com', 'outlook.com', 'web.de'];

function time(minute: number, hour = 8): string {
  const m = String(minute % 60).padStart(2, '0');
  return `2026-11-20 ${String(hour).padStart(2, '0')}:${m}:00+0000`;
}

function trafficScenario(): {
  csv: string;
  sections: Array<{ header: string; lines: string[] }>;
  expected: typeof expected;
} {
  const b: string[] = [B_HEADER];
  const f: string[] = [F_HEADER];
  let n = 0;
  const rcpt = (prefix: string) => `${prefix}${n++}@${MAILBOX_DOMAINS[n % MAILBOX_DOMAINS.length]}`;
  for (const [domain, c] of Object.entries(DOMAINS)) {
    const orig = `bounces@${domain}`;
    for (let i = 0; i < c.deliveries; i++)
      b.push(
        `d,${time(i)},${orig},${rcpt('ok')},relayed,2.0.0 (success),smtp;250 2.0.0 OK,,vmta-1,job-${domain}`,
      );
    for (let i = 0; i < c.hard; i++)
      b.push(
        `b,${time(i)},${orig},${rcpt('gone')},failed,5.1.1 (bad destination mailbox address),smtp;550 5.1.1 Recipient address rejected: User unknown,bad-mailbox,vmta-1,job-${domain}`,
      );
    for (let i = 0; i < c.soft; i++)
      b.push(
        `b,${time(i)},${orig},${rcpt('full')},failed,4.2.2 (mailbox full),smtp;452 4.2.2 Mailbox full,quota-issues,vmta-1,job-${domain}`,
      );
    for (let i = 0; i < c.complaints; i++)
      f.push(`f,${time(i, 9)},${orig},${rcpt('angry')},abuse,job-${domain}`);
  }
  const orig = `bounces@${BURST.domain}`;
  for (let i = 0; i < BURST.blocks; i++)
    b.push(
      `b,${time(i, 10)},${orig},blocked${i}@gmail.com,failed,5.7.1 (delivery not authorized),"smtp;550 5.7.1 Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam, this message has been blocked.",spam-related,${BURST.vmta},job-burst`,
    );
  for (let i = 0; i < BURST.deliveries; i++)
    b.push(
      `d,${time(i, 10)},${orig},fine${i}@gmail.com,relayed,2.0.0 (success),smtp;250 2.0.0 OK,,${BURST.vmta},job-burst`,
    );
  return {
    csv: `${[...b, ...f].join('\n')}\n`,
    sections: [
      { header: B_HEADER, lines: b.slice(1) },
      { header: F_HEADER, lines: f.slice(1) },
    ],
    expected,
  };
}

const expected = {
  sendingDomains: {
    'news.example.com': {
      deliveries: 2000 + BURST.deliveries,
      hardBounces: 20,
      softBounces: 8,
      complaints: 4,
      blocks: BURST.blocks,
    },
    'shop.example.com': { deliveries: 1000, hardBounces: 10, softBounces: 4, complaints: 5, blocks: 0 },
    'mail.example.net': { deliveries: 1000, hardBounces: 0, softBounces: 0, complaints: 0, blocks: 0 },
    'alerts.example.org': { deliveries: 0, hardBounces: 0, softBounces: 0, complaints: 2, blocks: 0 },
  },
  /** complaints / deliveries; undefined where no delivery was seen. */
  complaintRates: {
    'news.example.com': 4 / 2020,
    'shop.example.com': 5 / 1000,
    'mail.example.net': 0,
    'alerts.example.org': null,
  },
  guardrails: [
    { kind: 'complaint-rate', level: 'warn', sendingDomain: 'news.example.com', day: '2026-11-20' },
    { kind: 'complaint-rate', level: 'critical', sendingDomain: 'shop.example.com', day: '2026-11-20' },
    {
      kind: 'block-spike',
      level: 'critical',
      mailboxProvider: 'gmail',
      vmta: BURST.vmta,
      hour: '2026-11-20T10:00:00.000Z',
    },
  ],
};

export { BURST, trafficScenario };
