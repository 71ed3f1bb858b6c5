/**
 * The fault matrix's input: a seeded mix of PowerMTA records (hard and soft bounces, complaints,
 * anonymised complaints, deliveries, policy bounces, malformed lines) written under two layouts of
 * the same fields, each record knowing which subject it must leave unsubscribed.
 */

import { createAccountingReader } from '#core/accounting/accounting-reader.ts';
import { refSubject } from '#core/act/action.ts';
import type { ParseOutcome } from '#core/mail-event.ts';
import type { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import type { FakeListmonkServer } from '#sandbox/fakes/fake-listmonk-server.ts';
import type { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import type { FakeMauticServer } from '#sandbox/fakes/fake-mautic-server.ts';
import type { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { pmtaTime } from '#test/support/builders.ts';

const COLUMNS = [
  'timeLogged',
  'orig',
  'rcpt',
  'dsnAction',
  'dsnStatus',
  'dsnDiag',
  'bounceCat',
  'jobId',
  'envId',
  'feedbackType',
  'header_X-Mw-Subscriber-Uid',
  'header_X-Mw-List-Uid',
] as const;
type Column = (typeof COLUMNS)[number];
/** Two layouts of the same fields: the header line changes mid-stream between them. */
const LAYOUTS = [`type,${COLUMNS.join(',')}`, `type,${[...COLUMNS].reverse().join(',')}`] as const;

const RecordKind = {
  hard: 'hard',
  hardAgain: 'hard-again',
  softFirst: 'soft-first',
  softSecond: 'soft-second',
  softSingle: 'soft-single',
  complaint: 'complaint',
  anonymousComplaint: 'anonymous-complaint',
  delivery: 'delivery',
  policy: 'policy',
  malformed: 'malformed',
} as const;
type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

interface InputRecord {
  kind: RecordKind;
  fields: Partial<Record<Column, string>> & { type: string };
  /** Subject that must end unsubscribed at its providers, if any. */
  unsubscribes?: string;
  /** Malformed lines are written as they are. */
  raw?: string;
}

function serialize(record: InputRecord, header: string): string {
  if (record.raw !== undefined) return record.raw;
  return header
    .split(',')
    .map((c) => (c === 'type' ? record.fields.type : (record.fields[c as Column] ?? '')))
    .join(',');
}

interface Subscriptions {
  mw: FakeMailwizzServer;
  iem: FakeInterspireServer;
  hook: FakeWebhookServer;
  mwList: string;
  iemList: string;
  /** listmonk (bounce webhook) and Mautic (DNC), issue 18. */
  lm: FakeListmonkServer;
  lmList: number;
  mautic: FakeMauticServer;
  mauticSegment: number;
}

const SOFT_STATUS = '4.2.2 (mailbox full)';

/** What the record builders share while one input is made. */
class InputMix {
  readonly out: InputRecord[] = [];
  readonly hardAddresses: string[] = [];
  readonly softPending: Array<{ address: string; at: number }> = [];
  private clock = 0;
  private readonly base = Date.now() - 3_600_000;

  constructor(
    readonly tag: string,
    readonly subs: Subscriptions,
    readonly random: () => number,
  ) {}

  time(): string {
    this.clock += 1_000;
    return pmtaTime(this.base + this.clock);
  }

  email(kind: string, i: number): string {
    return `${kind}-${i}.${this.tag}@example.org`;
  }

  /** Subscribes the address at every provider and returns it. */
  subscribed(kind: string, i: number): string {
    const address = this.email(kind, i);
    this.subs.mw.addSubscriber(this.subs.mwList, address);
    this.subs.lm.subscribe(address, this.subs.lmList);
    this.subs.mautic.addContact(address, this.subs.mauticSegment);
    this.subs.iem.addSubscriber(this.subs.iemList, address);
    this.subs.hook.subscribe(address, 'hooklist');
    return address;
  }

  bounce(rcpt: string, cat: string, status: string, i: number, kind: RecordKind): InputRecord {
    return {
      kind,
      fields: {
        type: 'b',
        timeLogged: this.time(),
        orig: 'news@example.com',
        rcpt,
        dsnAction: 'failed',
        dsnStatus: status,
        dsnDiag: `smtp;${status.slice(0, 5)} rejected ${i}`,
        bounceCat: cat,
        jobId: `job-${this.tag}`,
        envId: `env-${i}`,
      },
    };
  }

  /** The second of a soft pair, which reaches the threshold (2). */
  softSecond(address: string, i: number): InputRecord {
    return { ...this.bounce(address, 'quota-issues', SOFT_STATUS, i, 'soft-second'), unsubscribes: address };
  }
}

function hardRecord(m: InputMix, i: number): InputRecord {
  const a = m.subscribed('hard', i);
  m.hardAddresses.push(a);
  return {
    ...m.bounce(a, 'bad-mailbox', '5.1.1 (bad destination mailbox address)', i, 'hard'),
    unsubscribes: a,
  };
}

function hardAgainRecord(m: InputMix, i: number): InputRecord {
  const a = m.hardAddresses[Math.floor(m.random() * m.hardAddresses.length)]!;
  return {
    ...m.bounce(a, 'bad-domain', '5.1.2 (bad destination system address)', i, 'hard-again'),
    unsubscribes: a,
  };
}

/** The first of a pair; the second comes a few records later. */
function softFirstRecord(m: InputMix, i: number): InputRecord {
  const a = m.subscribed('soft', i);
  m.softPending.push({ address: a, at: m.out.length });
  return m.bounce(a, 'quota-issues', SOFT_STATUS, i, 'soft-first');
}

function softSingleRecord(m: InputMix, i: number): InputRecord {
  return m.bounce(m.subscribed('softone', i), 'quota-issues', SOFT_STATUS, i, 'soft-single');
}

function complaintRecord(m: InputMix, i: number): InputRecord {
  const a = m.subscribed('complaint', i);
  const fields = { type: 'f', timeLogged: m.time(), orig: 'news@example.com', rcpt: a };
  return {
    kind: 'complaint',
    fields: { ...fields, jobId: `job-${m.tag}`, envId: `env-${i}`, feedbackType: 'abuse' },
    unsubscribes: a,
  };
}

/** Anonymised: no recipient, only the MailWizz ids (so subscribed at MailWizz only). */
function anonymousComplaintRecord(m: InputMix, i: number): InputRecord {
  const uid = m.subs.mw.addSubscriber(m.subs.mwList, m.email('anon', i));
  return {
    kind: 'anonymous-complaint',
    fields: {
      type: 'f',
      timeLogged: m.time(),
      orig: 'news@example.com',
      jobId: `job-${m.tag}`,
      envId: `env-${i}`,
      feedbackType: 'abuse',
      'header_X-Mw-Subscriber-Uid': uid,
      'header_X-Mw-List-Uid': m.subs.mwList,
    },
    unsubscribes: refSubject({ providerType: 'mailwizz', listId: m.subs.mwList, subscriberId: uid }),
  };
}

function deliveryRecord(m: InputMix, i: number): InputRecord {
  const a = m.subscribed('delivered', i);
  return {
    kind: 'delivery',
    fields: {
      type: 'd',
      timeLogged: m.time(),
      orig: 'news@example.com',
      rcpt: a,
      dsnAction: 'relayed',
      dsnStatus: '2.0.0 (success)',
      dsnDiag: 'smtp;250 ok',
      jobId: `job-${m.tag}`,
      envId: `env-${i}`,
    },
  };
}

function policyRecord(m: InputMix, i: number): InputRecord {
  const a = m.subscribed('policy', i);
  return m.bounce(a, 'policy-related', '5.7.1 (delivery not authorized)', i, 'policy');
}

function malformedRecord(m: InputMix, i: number): InputRecord {
  return { kind: 'malformed', fields: { type: 'b' }, raw: `b,not a record ${m.tag} ${i}` };
}

/** The mix: the first row whose bound is above the roll (and whose condition holds) builds. */
const MIX: ReadonlyArray<{ below: number; when?: (m: InputMix) => boolean; build: typeof hardRecord }> = [
  { below: 0.25, build: hardRecord },
  { below: 0.32, when: (m) => m.hardAddresses.length > 0, build: hardAgainRecord },
  { below: 0.47, build: softFirstRecord },
  { below: 0.52, build: softSingleRecord },
  { below: 0.62, build: complaintRecord },
  { below: 0.68, build: anonymousComplaintRecord },
  { below: 0.8, build: deliveryRecord },
  { below: 0.88, build: policyRecord },
  { below: Number.POSITIVE_INFINITY, build: malformedRecord },
];

/**
 * The record mix, in the order written. Addresses are subscribed at all three providers (the
 * anonymised complaints' subscriptions exist only at MailWizz, whose ids they carry).
 */
function makeInput(n: number, tag: string, subs: Subscriptions, random: () => number): InputRecord[] {
  const m = new InputMix(tag, subs, random);
  for (let i = 0; m.out.length < n; i += 1) {
    const roll = random();
    const row = MIX.find((r) => roll < r.below && (r.when?.(m) ?? true))!;
    m.out.push(row.build(m, i));
    const due = m.softPending[0];
    if (due && m.out.length - due.at >= 4) {
      m.softPending.shift();
      m.out.push(m.softSecond(due.address, i + 100_000));
    }
  }
  for (const due of m.softPending) m.out.push(m.softSecond(due.address, m.out.length + 200_000));
  return m.out;
}

/** The record's outcome from the core reader, under the header it was written with. */
function parseLine(header: string, line: string): ParseOutcome {
  let outcome: ParseOutcome | undefined;
  const reader = createAccountingReader({}, (o) => {
    outcome ??= o;
  });
  reader.write(`${header}\n${line}\n`);
  reader.end();
  if (!outcome) throw new Error(`no outcome for ${line}`);
  return outcome;
}

export type { InputRecord, Subscriptions };
export { LAYOUTS, makeInput, parseLine, serialize };
