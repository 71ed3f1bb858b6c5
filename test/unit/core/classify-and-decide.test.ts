import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '#core/classify/classification-rules.ts';
import { createClassifier } from '#core/classify/classify.ts';
import { KNOWN_CATEGORIES, parseConfig, SENDER_SIDE_CATEGORIES } from '#core/config-schema.ts';
import { decide } from '#core/decide/policy.ts';
import type { MailEvent } from '#core/mail-event.ts';

const policy = parseConfig({}, {}, {}).policy;
const classify = createClassifier();

function event(overrides: Partial<MailEvent>): MailEvent {
  return {
    line: 1,
    recordType: 'b',
    kind: 'bounce',
    recipient: 'a@example.com',
    orig: undefined,
    bounceCat: undefined,
    dsnAction: undefined,
    dsnStatus: undefined,
    dsnDiag: undefined,
    feedbackType: undefined,
    jobId: undefined,
    occurredAt: 0,
    refs: [],
    key: 'k',
    ...overrides,
  };
}

describe('classification', () => {
  it.each([
    {
      case: 'trusts a PowerMTA category',
      bounceCat: 'bad-domain',
      status: '5.1.1',
      diag: '',
      category: 'bad-domain',
      rule: 'pmta',
    },
    {
      case: 'falls back when other',
      bounceCat: 'other',
      status: '5.1.1 (bad destination mailbox address)',
      diag: 'smtp;550 5.1.1 nope',
      category: 'bad-mailbox',
      rule: 'status-bad-mailbox',
    },
    {
      case: 'falls back when missing',
      bounceCat: undefined,
      status: '5.2.2',
      diag: 'smtp;552 mailbox full',
      category: 'quota-issues',
      rule: 'text-quota',
    },
    {
      case: 'text wins over status (blocked 5.1.1)',
      bounceCat: undefined,
      status: '5.1.1',
      diag: 'smtp;550 5.1.1 blocked by RBL',
      category: 'spam-related',
      rule: 'text-spam',
    },
    {
      case: 'unknown bounceCat "hard" is kept and named',
      bounceCat: 'hard',
      status: '550',
      diag: 'smtp; 550 5.1.1 User unknown',
      category: 'hard',
      rule: 'pmta',
    },
    {
      case: 'Yahoo "doesn\'t have an account"',
      bounceCat: 'other',
      status: '5.0.0 (undefined status)',
      diag: "smtp;554 delivery error: dd This user doesn't have a yahoo.com account",
      category: 'bad-mailbox',
      rule: 'text-bad-mailbox',
    },
    {
      case: 'invalid sender',
      bounceCat: undefined,
      status: '5.1.8',
      diag: '',
      category: 'invalid-sender',
      rule: 'status-invalid-sender',
    },
    {
      case: 'expired',
      bounceCat: undefined,
      status: '4.4.7',
      diag: '',
      category: 'message-expired',
      rule: 'status-expired',
    },
    {
      case: 'nothing matches',
      bounceCat: undefined,
      status: '',
      diag: 'weird',
      category: 'other',
      rule: 'default',
    },
  ])('$case', ({ bounceCat, status, diag, category, rule }) => {
    expect(classify({ bounceCat, dsnStatus: status, dsnDiag: diag })).toMatchObject({
      category,
      ruleId: rule,
    });
  });

  it('rule order is first-match-wins (a rule moved to the end changes the result)', () => {
    const reordered = [
      ...DEFAULT_RULES.filter((r) => r.id !== 'text-spam'),
      DEFAULT_RULES.find((r) => r.id === 'text-spam')!,
    ];
    const c = createClassifier(reordered);
    expect(c({ dsnStatus: '5.1.1', dsnDiag: 'blocked user unknown' }).category).toBe('bad-mailbox');
  });

  it('refuses rules with unknown categories or duplicate ids', () => {
    expect(() => createClassifier([{ id: 'x', category: 'nope', pattern: /x/ }])).toThrow(/unknown category/);
    expect(() => createClassifier([DEFAULT_RULES[0]!, DEFAULT_RULES[0]!])).toThrow(/duplicate/);
  });
});

describe('decisions under the default policy, every category', () => {
  const expected: Record<string, string> = {
    'bad-mailbox': 'unsubscribe',
    'bad-domain': 'unsubscribe',
    'inactive-mailbox': 'unsubscribe',
    'routing-errors': 'unsubscribe',
    'quota-issues': 'soft-bounce',
    'message-expired': 'soft-bounce',
    'no-answer-from-host': 'soft-bounce',
    'bad-connection': 'soft-bounce',
    other: 'soft-bounce',
  };
  for (const c of SENDER_SIDE_CATEGORIES) expected[c] = 'ignore';

  it('covers every known category', () => {
    expect(Object.keys(expected).sort()).toEqual([...KNOWN_CATEGORIES].sort());
  });

  it.each(Object.entries(expected).map(([category, intent]) => ({ category, intent })))(
    '$category → $intent',
    ({ category, intent }) => {
      const e = event({ bounceCat: category });
      const d = decide(e, classify(e), policy);
      expect(d.intent).toBe(intent);
      expect(d.reason).toContain(`category=${category}`);
    },
  );
});

it('an unknown bounceCat is ignored with its name in the reason', () => {
  const e = event({ bounceCat: 'hard' });
  expect(decide(e, classify(e), policy)).toMatchObject({
    intent: 'ignore',
    reason: expect.stringContaining('category=hard bounceCat (not a PowerMTA category)'),
  });
});

describe('complaints and unsubscribes', () => {
  it.each([
    { type: 'abuse', intent: 'unsubscribe' },
    { type: 'fraud', intent: 'unsubscribe' },
    { type: 'virus', intent: 'unsubscribe' },
    { type: 'other', intent: 'unsubscribe' },
    { type: undefined, intent: 'unsubscribe' },
    { type: 'auth-failure', intent: 'ignore' },
    { type: 'not-spam', intent: 'ignore' },
    { type: 'something-new', intent: 'ignore' },
  ])('feedback type $type → $intent', ({ type, intent }) => {
    const d = decide(event({ recordType: 'f', kind: 'complaint', feedbackType: type }), undefined, policy);
    expect(d.intent).toBe(intent);
    expect(d.reason.length).toBeGreaterThan(10);
  });

  it('complaints: ignore honours the policy', () => {
    const ignoring = parseConfig({ policy: { complaints: 'ignore' } }, {}, {}).policy;
    expect(
      decide(event({ recordType: 'f', kind: 'complaint', feedbackType: 'abuse' }), undefined, ignoring)
        .intent,
    ).toBe('ignore');
  });

  it('an anonymised complaint still unsubscribes everywhere (by provider ids, widened at act time)', () => {
    const e = event({
      recordType: 'f',
      kind: 'complaint',
      recipient: undefined,
      feedbackType: 'abuse',
      refs: [{ providerType: 'mailwizz', listId: 'ab123cd45ef67', subscriberId: 'zz987yy654xx3' }],
    });
    expect(decide(e, undefined, policy)).toMatchObject({ intent: 'unsubscribe', scope: 'everywhere' });
  });

  it('a plain address line unsubscribes everywhere', () => {
    expect(decide(event({ recordType: 'plain', kind: 'manual' }), undefined, policy)).toMatchObject({
      intent: 'unsubscribe',
      scope: 'everywhere',
    });
  });
});
