import { describe, expect, it } from 'vitest';
import { BUILTIN_RULES } from '#core/classify/builtin-rules.ts';
import { createClassifier } from '#core/classify/classify.ts';
import { KNOWN_CATEGORIES, parseConfig, SENDER_SIDE_CATEGORIES } from '#core/config-schema.ts';
import { decide } from '#core/decide/policy.ts';
import type { MailEvent } from '#core/mail-event.ts';

const policy = parseConfig({}, {}, {}).policy;
const classify = createClassifier({ builtin: BUILTIN_RULES });

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

describe('order of judgement', () => {
  it.each([
    {
      case: 'a real PowerMTA category is trusted when no override matches',
      bounceCat: 'bad-domain',
      status: '5.1.2',
      diag: 'smtp;550 5.1.2 host unknown',
      category: 'bad-domain',
      rule: 'pmta',
    },
    {
      case: 'a provider override beats bounceCat (Microsoft 365 DBEB filed as policy-related)',
      bounceCat: 'policy-related',
      status: '5.4.1',
      diag: 'smtp;550 5.4.1 Recipient address rejected: Access denied. AS(201806281)',
      category: 'bad-mailbox',
      rule: 'microsoft-dbeb',
    },
    {
      case: 'a sender-side override beats bounceCat (rate limit filed as bad-mailbox)',
      bounceCat: 'bad-mailbox',
      status: '5.1.1',
      diag: 'smtp;550 5.1.1 <a@example.com> - 192.0.2.1 has sent to too many recipients this hour. IB607',
      category: 'policy-related',
      rule: 'sender-rate-limit',
    },
    {
      case: 'general rules decide when bounceCat is other',
      bounceCat: 'other',
      status: '5.1.1 (bad destination mailbox address)',
      diag: 'smtp;550 5.1.1 nope',
      category: 'bad-mailbox',
      rule: 'status-bad-mailbox',
    },
    {
      case: 'text rules come before status rules',
      bounceCat: undefined,
      status: '5.1.1',
      diag: 'smtp;550 5.1.1 blocked using zen.spamhaus.org',
      category: 'spam-related',
      rule: 'sender-blocklist',
    },
    {
      case: "PowerMTA's status text is never read (5.2.1 description says disabled)",
      bounceCat: undefined,
      status: '5.2.1 (mailbox disabled, not accepting messages)',
      diag: 'smtp;550 5.2.1 <a@example.com>... User Unknown',
      category: 'bad-mailbox',
      rule: 'unknown-user',
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

  it('operator rules come first, then the built-ins', () => {
    const operator = createClassifier({
      builtin: BUILTIN_RULES,
      operator: [{ id: 'local-hold', reply: 'user unknown', category: 'other', fault: 'ignore' }],
    });
    expect(operator({ bounceCat: 'bad-mailbox', dsnDiag: 'smtp;550 5.1.1 user unknown' }).ruleId).toBe(
      'local-hold',
    );
    const general = createClassifier({
      builtin: BUILTIN_RULES,
      operator: [{ id: 'late', stage: 'general', reply: 'user unknown', category: 'other', fault: 'ignore' }],
    });
    expect(general({ bounceCat: 'bad-mailbox', dsnDiag: 'smtp;550 5.1.1 user unknown' }).ruleId).toBe('pmta');
    expect(general({ bounceCat: 'other', dsnDiag: 'smtp;550 5.1.1 user unknown' }).ruleId).toBe('late');
  });

  it('refuses duplicate rule ids and unknown providers', () => {
    const rule = { id: 'x', reply: 'abc', category: 'other', fault: 'ignore' } as const;
    expect(() => createClassifier({ builtin: BUILTIN_RULES, operator: [rule, rule] })).toThrow(/duplicate/);
    expect(() =>
      createClassifier({ builtin: BUILTIN_RULES, operator: [{ ...rule, provider: 'nope' }] }),
    ).toThrow(/unknown provider/);
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

it('an unknown bounceCat is reclassified by the rules and named in the reason', () => {
  const e = event({ bounceCat: 'hard', dsnStatus: '550', dsnDiag: 'smtp; 550 5.1.1 User unknown' });
  expect(decide(e, classify(e), policy)).toMatchObject({
    intent: 'unsubscribe',
    rule: 'unknown-user',
    reason: expect.stringContaining(
      'category=bad-mailbox rule=unknown-user (bounceCat "hard" is not a PowerMTA category)',
    ),
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
