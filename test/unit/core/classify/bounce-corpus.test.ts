import { describe, expect, it } from 'vitest';
import { decideCorpus, readCorpus, unsubscribesWorkingMailbox } from './bounce-corpus.ts';

/** Disagreements that remain, each explained in docs/classification.md. */
const KNOWN_DISAGREEMENTS = ['c122'];

const REQUIRED_PROVIDERS = [
  'gmail',
  'yahoo-aol',
  'outlook.com',
  'microsoft-365',
  'icloud',
  'gmx-webde',
  'orange',
  'mimecast',
  'proofpoint',
  'barracuda',
  'postfix',
  'exim',
  'qmail',
  'exchange',
];

describe('public bounce corpus (test/fixtures/SOURCES.md §4)', () => {
  const entries = readCorpus();
  const results = decideCorpus(entries);

  it('holds at least 500 labelled replies from every required provider and MTA', () => {
    expect(entries.length).toBeGreaterThanOrEqual(500);
    expect(new Set(entries.map((e) => e.id)).size).toBe(entries.length);
    for (const p of REQUIRED_PROVIDERS)
      expect(
        entries.some((e) => e.provider === p),
        p,
      ).toBe(true);
    for (const e of entries) {
      expect(e.source).toMatch(/^sisimai\/(set-of-emails|p5-sisimai) /);
      expect(['unsubscribe', 'soft', 'ignore']).toContain(e.expected.outcome);
    }
  });

  it('agrees with the labels on at least 98 % of replies', () => {
    const agreeing = results.filter((r) => r.outcome === r.entry.expected.outcome).length;
    expect(agreeing / results.length).toBeGreaterThanOrEqual(0.98);
  });

  it('never unsubscribes a working mailbox (recipient-temporary or sender-side reply)', () => {
    const lost = results.filter(unsubscribesWorkingMailbox).map((r) => `${r.entry.id} ${r.rule}`);
    expect(lost).toEqual([]);
  });

  it('the remaining disagreements are exactly the documented ones', () => {
    const differ = results.filter((r) => r.outcome !== r.entry.expected.outcome).map((r) => r.entry.id);
    expect(differ).toEqual(KNOWN_DISAGREEMENTS);
  });
});
