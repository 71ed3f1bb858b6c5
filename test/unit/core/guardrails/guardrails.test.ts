import { describe, expect, it } from 'vitest';
import { DEFAULT_GUARDRAILS, evaluateGuardrails, guardrailSettings } from '#core/guardrails/guardrails.ts';
import { createMailboxProviderTable } from '#core/guardrails/mailbox-provider.ts';
import {
  emptyCounts,
  HOUR_MS,
  type TrafficRow,
  TrafficTally,
  trafficClassOf,
} from '#core/guardrails/traffic.ts';
import { trafficMetrics } from '#core/guardrails/traffic-metrics.ts';

const HOUR = Date.UTC(2026, 10, 20, 10);
const hard = new Set(['bad-mailbox', 'bad-domain']);

function row(partial: Partial<TrafficRow>): TrafficRow {
  return {
    hour: HOUR,
    sendingDomain: 'news.example.com',
    mailboxProvider: 'gmail',
    vmta: 'v1',
    job: '-',
    ...emptyCounts(),
    ...partial,
  };
}

describe('mailbox provider table', () => {
  const table = createMailboxProviderTable({ seznam: ['seznam.cz'], gmail: ['corp-gmail.example'] });
  it.each([
    { domain: 'gmail.com', group: 'gmail' },
    { domain: 'aol.com', group: 'yahoo' },
    { domain: 'hotmail.co.uk', group: 'microsoft' },
    { domain: 'me.com', group: 'apple' },
    { domain: 'web.de', group: 'gmx' },
    { domain: 'seznam.cz', group: 'seznam' },
    { domain: 'corp-gmail.example', group: 'gmail' },
    { domain: 'example.org', group: 'other' },
    { domain: undefined, group: 'other' },
  ])('$domain is $group', ({ domain, group }) => {
    expect(table.of(domain)).toBe(group);
  });
  it('lists a bounded set of groups with other last', () => {
    expect(table.groups.at(-1)).toBe('other');
    expect(table.groups).toContain('seznam');
  });
});

describe('traffic class', () => {
  it.each([
    { type: 'd', category: undefined, complaint: false, cls: 'delivery' },
    { type: 'b', category: 'bad-mailbox', complaint: false, cls: 'hard' },
    { type: 'rb', category: 'quota-issues', complaint: false, cls: 'soft' },
    { type: 'b', category: 'spam-related', complaint: false, cls: 'block' },
    { type: 'b', category: 'policy-related', complaint: false, cls: 'block' },
    { type: 'f', category: undefined, complaint: true, cls: 'complaint' },
    { type: 'f', category: undefined, complaint: false, cls: undefined },
    { type: 't', category: undefined, complaint: false, cls: undefined },
  ])('$type/$category is $cls', ({ type, category, complaint, cls }) => {
    expect(trafficClassOf(type, category, hard, complaint)).toBe(cls);
  });
});

describe('tally', () => {
  it('aggregates per hour, sending domain, mailbox provider, vmta and job', () => {
    const tally = new TrafficTally(createMailboxProviderTable());
    const at = HOUR + 5 * 60_000;
    const sample = {
      at,
      recordType: 'd',
      orig: 'a@News.Example.com',
      recipient: 'x@gmail.com',
      vmta: 'v1',
      jobId: 'j',
    };
    tally.add(sample, 'delivery');
    tally.add({ ...sample, at: at + 1000 }, 'delivery');
    tally.add({ ...sample, recipient: 'y@yahoo.com' }, 'block', 'spam-related');
    tally.add({ ...sample, at: at + HOUR_MS }, 'hard');
    const rows = tally.entries();
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({
      hour: HOUR,
      sendingDomain: 'news.example.com',
      mailboxProvider: 'gmail',
      deliveries: 2,
    });
    expect(rows[1]).toMatchObject({ mailboxProvider: 'yahoo', blocks: { 'spam-related': 1 } });
    expect(rows[2]).toMatchObject({ hour: HOUR + HOUR_MS, hardBounces: 1 });
  });
  it('caps hostile dimension values and names absent ones', () => {
    const tally = new TrafficTally(createMailboxProviderTable());
    tally.add(
      { at: HOUR, recordType: 'd', orig: undefined, recipient: undefined, vmta: 'v'.repeat(5000), jobId: '' },
      'delivery',
    );
    const [r] = tally.entries();
    expect(r?.vmta.length).toBe(120);
    expect(r?.sendingDomain).toBe('-');
    expect(r?.job).toBe('-');
  });
});

describe('guardrails', () => {
  const s = DEFAULT_GUARDRAILS;
  it.each([
    { deliveries: 10_000, complaints: 9, trips: [] },
    { deliveries: 10_000, complaints: 10, trips: ['warn'] },
    { deliveries: 10_000, complaints: 29, trips: ['warn'] },
    { deliveries: 10_000, complaints: 30, trips: ['critical'] },
    { deliveries: 0, complaints: 30, trips: [] },
    { deliveries: 99, complaints: 30, trips: [] }, // below minDeliveries: no rate from a handful
    { deliveries: 100, complaints: 1, trips: ['critical'] }, // exactly minDeliveries: judged
  ])('complaint rate $complaints/$deliveries trips $trips', ({ deliveries, complaints, trips }) => {
    const found = evaluateGuardrails([row({ deliveries, complaints })], s);
    expect(found.map((t) => t.level)).toEqual(trips);
  });
  it('sums a day across hours, providers and vmtas before judging the complaint rate', () => {
    const rows = [
      row({ deliveries: 500, complaints: 1 }),
      row({ hour: HOUR + HOUR_MS, mailboxProvider: 'yahoo', deliveries: 500, complaints: 1 }),
    ];
    expect(evaluateGuardrails(rows, s)).toMatchObject([
      { kind: 'complaint-rate', level: 'warn', complaints: 2, deliveries: 1000 },
    ]);
  });
  it.each([
    { deliveries: 45, blocks: 4, tripped: false }, // 49 attempts: too few to judge
    { deliveries: 45, blocks: 5, tripped: false }, // exactly 10 %: not above
    { deliveries: 44, blocks: 6, tripped: true },
  ])('block spike $blocks of $deliveries', ({ deliveries, blocks, tripped }) => {
    const found = evaluateGuardrails([row({ deliveries, blocks: { 'spam-related': blocks } })], s);
    expect(found.some((t) => t.kind === 'block-spike')).toBe(tripped);
  });
  it('judges blocks per provider and vmta, not across them', () => {
    const rows = [
      row({ vmta: 'v1', deliveries: 100, blocks: { 'policy-related': 20 } }),
      row({ vmta: 'v2', deliveries: 1000, blocks: {} }),
    ];
    expect(evaluateGuardrails(rows, s)).toMatchObject([
      { kind: 'block-spike', vmta: 'v1', blocks: 20, attempts: 120 },
    ]);
  });
  it('trips exactly at a configured 0.3 % (no binary noise in the threshold)', () => {
    const settings = guardrailSettings({
      complaintRatePercent: { warn: 0.1, critical: 0.3, minDeliveries: 100 },
      blockSpike: { percent: 10, minAttempts: 50 },
      mailboxProviders: {},
      sendingDomains: [],
      vmtas: [],
    });
    expect(evaluateGuardrails([row({ deliveries: 1000, complaints: 3 })], settings)[0]?.level).toBe(
      'critical',
    );
  });
  it('reads percent from the config', () => {
    expect(
      guardrailSettings({
        complaintRatePercent: { warn: 0.2, critical: 0.5, minDeliveries: 10 },
        blockSpike: { percent: 25, minAttempts: 10 },
        mailboxProviders: {},
        sendingDomains: [],
        vmtas: [],
      }),
    ).toEqual({
      complaintRate: { warn: 0.002, critical: 0.005, minDeliveries: 10 },
      blockSpike: { share: 0.25, minAttempts: 10 },
    });
  });
});

describe('traffic metrics', () => {
  it('keeps listed sending domains and VirtualMTAs, folds the rest into other, and sums', () => {
    const metrics = trafficMetrics(
      [
        row({ sendingDomain: 'news.example.com', deliveries: 10, complaints: 1, vmta: 'v1' }),
        row({ sendingDomain: 'x.example.org', deliveries: 5, vmta: 'v9', blocks: { 'spam-related': 2 } }),
        row({ sendingDomain: 'y.example.org', deliveries: 3, vmta: 'v8' }),
      ],
      { sendingDomains: ['News.Example.com'], vmtas: ['v1'] },
    );
    expect(metrics).toEqual([
      { metric: 'deliveries', dimensions: { sendingDomain: 'news.example.com' }, value: 10 },
      { metric: 'complaints', dimensions: { sendingDomain: 'news.example.com' }, value: 1 },
      { metric: 'attempts', dimensions: { mailboxProvider: 'gmail', vmta: 'v1' }, value: 10 },
      { metric: 'deliveries', dimensions: { sendingDomain: 'other' }, value: 8 },
      { metric: 'attempts', dimensions: { mailboxProvider: 'gmail', vmta: 'other' }, value: 10 },
      { metric: 'blocks', dimensions: { mailboxProvider: 'gmail', vmta: 'other' }, value: 2 },
    ]);
  });
});
