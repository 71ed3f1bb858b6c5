import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '#core/ports.ts';
import { csvCell, exportCsvHeader, exportCsvRow } from '#core/suppressions/suppression-export.ts';
import {
  changedLists,
  matchesFilter,
  type SuppressionRecord,
} from '#core/suppressions/suppression-ledger.ts';
import { planUndo } from '#core/suppressions/undo-plan.ts';

describe('csvCell: safe against spreadsheet formula injection', () => {
  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1@example.com', "'+1@example.com"],
    ['-2+3', "'-2+3"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', `"'\rx"`],
    ['plain@example.com', 'plain@example.com'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['', ''],
    ['a=b', 'a=b'],
  ])('%j → %j', (input, expected) => {
    expect(csvCell(input)).toBe(expected);
  });
});

const record: SuppressionRecord = {
  subject: '=cmd@example.com',
  at: Date.UTC(2026, 11, 1, 10, 0, 0),
  kind: 'bounce',
  category: 'bad-mailbox',
  reason: 'hard bounce, bad-mailbox',
  rule: 'r-5.1.1',
  recordType: 'b',
  jobId: 'mailwizz-ab12',
  providersDone: ['mw', 'isp'],
  changed: [
    { provider: 'mw', listId: 'L1', listName: 'News' },
    { provider: 'isp', listId: '7' },
  ],
};

describe('export rows', () => {
  it('has a header and one line per suppression, every column filled', () => {
    expect(exportCsvHeader()).toBe(
      'address,suppressed_at,kind,category,rule,record_type,job,reason,providers_done,lists_changed\r\n',
    );
    expect(exportCsvRow(record)).toBe(
      `'=cmd@example.com,2026-12-01T10:00:00.000Z,bounce,bad-mailbox,r-5.1.1,b,mailwizz-ab12,"hard bounce, bad-mailbox",mw;isp,mw:L1 (News);isp:7\r\n`,
    );
  });
});

describe('changedLists: only what this product changed, since the last undo', () => {
  const unsub = (provider: string, lists: AuditEntry['lists']): AuditEntry => ({
    subject: 's',
    at: 1,
    type: 'provider',
    action: 'unsubscribe',
    reason: '',
    provider,
    outcome: 'done',
    lists,
  });
  const undo: AuditEntry = { subject: 's', at: 2, type: 'decision', action: 'undo', reason: '' };
  it.each<[string, AuditEntry[], string[]]>([
    [
      'done lists only',
      [
        unsub('mw', [
          { listId: 'A', outcome: 'done' },
          { listId: 'B', outcome: 'already' },
        ]),
      ],
      ['mw:A'],
    ],
    ['nothing after an undo', [unsub('mw', [{ listId: 'A', outcome: 'done' }]), undo], []],
    [
      'what came after the undo',
      [
        unsub('mw', [{ listId: 'A', outcome: 'done' }]),
        undo,
        unsub('isp', [{ listId: '3', outcome: 'done' }]),
      ],
      ['isp:3'],
    ],
    ['not-found is no change', [unsub('mw', [{ listId: 'A', outcome: 'not-found' }])], []],
  ])('%s', (_name, audit, expected) => {
    expect(changedLists(audit).map((c) => `${c.provider}:${c.listId}`)).toEqual(expected);
  });
});

describe('matchesFilter', () => {
  it.each<[string, Parameters<typeof matchesFilter>[1], boolean]>([
    ['no filter', {}, true],
    ['category in', { categories: ['quota-issues', 'bad-mailbox'] }, true],
    ['category out', { categories: ['quota-issues'] }, false],
    ['rule', { rule: 'r-5.1.1' }, true],
    ['other rule', { rule: 'r-x' }, false],
    ['job', { jobId: 'mailwizz-ab12' }, true],
    ['other job', { jobId: 'j2' }, false],
    ['reason substring, any case', { reason: 'BAD-MAILBOX' }, true],
    ['reason absent', { reason: 'complaint' }, false],
    ['since before', { since: record.at }, true],
    ['since after', { since: record.at + 1 }, false],
    ['until before', { until: record.at - 1 }, false],
    ['provider changed', { provider: 'isp' }, true],
    ['provider never', { provider: 'lm' }, false],
    ['subject', { subjects: ['=cmd@example.com'] }, true],
    ['other subject', { subjects: ['x@example.com'] }, false],
  ])('%s', (_name, filter, expected) => {
    expect(matchesFilter(record, filter)).toBe(expected);
  });
});

describe('planUndo', () => {
  it("never undoes a subscriber's own unsubscribe request", () => {
    const step = planUndo({ ...record, kind: 'unsubscribe' }, 'undo', 5);
    expect(step).toEqual({
      subject: record.subject,
      skip: expect.stringContaining('own unsubscribe request'),
    });
  });
  it('queues one undo action naming each changed list per provider, with the previous status', () => {
    const step = planUndo(
      {
        ...record,
        changed: [
          { provider: 'mw', listId: 'L1', previousStatus: 'unconfirmed' },
          { provider: 'isp', listId: '7' },
        ],
      },
      'undo by operator',
      5,
    );
    expect('action' in step && step.action).toMatchObject({
      subject: record.subject,
      target: { type: 'email', address: record.subject },
      providers: ['isp', 'mw'],
      undo: { lists: { mw: [{ listId: 'L1', previousStatus: 'unconfirmed' }], isp: [{ listId: '7' }] } },
    });
  });
  it('changes nothing at providers when none changed anything', () => {
    const step = planUndo({ ...record, changed: [] }, 'undo', 5);
    expect('action' in step && step.action).toBeUndefined();
  });
});
