import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRouter } from '#core/decide/routing.ts';
import {
  checkVerdicts,
  decideInboundUnsubscribe,
  inboundUnsubscribeAction,
  parseUnsubscribeAddress,
  UNVERIFIED_TTL_MS,
} from '#core/unsubscribe/inbound-unsubscribe.ts';
import { recordInboundUnsubscribes } from '#core/unsubscribe/record-inbound-unsubscribes.ts';
import { MemorySuppressionStore } from '#test/support/memory-suppression-store.ts';

const S = 'sub0000000001';
const L = 'lst0000000001';
const C = 'cmp0000000001';
const DOMAINS = ['unsub.example.com', 'Optout.Example.NET'];
const GOOD = `${S}.${L}.${C}@unsub.example.com`;

describe('parseUnsubscribeAddress', () => {
  it.each([
    { case: 'plain', input: GOOD, address: GOOD },
    { case: 'upper-case domain (SES keeps case)', input: `${S}.${L}.${C}@UNSUB.Example.COM`, address: GOOD },
    { case: 'upper-case uids', input: `${S.toUpperCase()}.${L}.${C}@unsub.example.com`, address: GOOD },
    { case: 'angle brackets and spaces', input: ` <${GOOD}> `, address: GOOD },
    { case: 'trailing dot on domain', input: `${GOOD}.`, address: GOOD },
    {
      case: 'configured domain in mixed case',
      input: `${S}.${L}.${C}@optout.example.net`,
      address: `${S}.${L}.${C}@optout.example.net`,
    },
  ])('accepts $case', ({ input, address }) => {
    const r = parseUnsubscribeAddress(input, DOMAINS);
    expect(r).toEqual({
      ok: true,
      address,
      domain: address.split('@')[1],
      ref: { providerType: 'mailwizz', subscriberId: S, listId: L, campaignId: C },
    });
  });

  it.each([
    { case: 'empty', input: '', verdict: 'malformed', reason: /empty/ },
    { case: 'no @', input: `${S}.${L}.${C}`, verdict: 'malformed', reason: /not an email/ },
    { case: 'no domain', input: `${S}.${L}.${C}@`, verdict: 'malformed', reason: /not an email/ },
    {
      case: 'two parts only',
      input: `${S}.${L}@unsub.example.com`,
      verdict: 'malformed',
      reason: /local part/,
    },
    {
      // Four parts is a signed address (unsubscribe-token.ts); five is nothing.
      case: 'five parts',
      input: `${S}.${L}.${C}.k1.x@unsub.example.com`,
      verdict: 'malformed',
      reason: /local part/,
    },
    {
      case: '12-char uid',
      input: `${S.slice(1)}.${L}.${C}@unsub.example.com`,
      verdict: 'malformed',
      reason: /local part/,
    },
    {
      case: '14-char uid',
      input: `${S}x.${L}.${C}@unsub.example.com`,
      verdict: 'malformed',
      reason: /local part/,
    },
    {
      case: 'symbol in uid',
      input: `sub00000000-1.${L}.${C}@unsub.example.com`,
      verdict: 'malformed',
      reason: /local part/,
    },
    {
      case: 'plus tag',
      input: `${S}.${L}.${C}+x@unsub.example.com`,
      verdict: 'malformed',
      reason: /local part/,
    },
    {
      case: 'iCloud sample local part',
      input: 'opt-out-100731.e75std53hz8rnmy4r@unsub.example.com',
      verdict: 'malformed',
      reason: /local part/,
    },
    {
      case: 'oversized local part',
      input: `${'a'.repeat(65)}@unsub.example.com`,
      verdict: 'malformed',
      reason: /64/,
    },
    {
      case: 'oversized address',
      input: `${S}.${L}.${C}@${'d'.repeat(250)}.com`,
      verdict: 'malformed',
      reason: /254/,
    },
    {
      case: 'huge input',
      input: `${'x'.repeat(100_000)}@unsub.example.com`,
      verdict: 'malformed',
      reason: /254/,
    },
    {
      case: 'unknown domain',
      input: `${S}.${L}.${C}@example.com`,
      verdict: 'unknown-domain',
      reason: /not in unsubscribe.domains/,
    },
    {
      case: 'subdomain of a configured one',
      input: `${S}.${L}.${C}@x.unsub.example.com`,
      verdict: 'unknown-domain',
      reason: /domains/,
    },
    {
      case: 'lookalike suffix',
      input: `${S}.${L}.${C}@unsub.example.com.evil`,
      verdict: 'unknown-domain',
      reason: /domains/,
    },
  ])('rejects $case', ({ input, verdict, reason }) => {
    const r = parseUnsubscribeAddress(input, DOMAINS);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.verdict).toBe(verdict);
    expect(r.reason).toMatch(reason);
    expect(r.reason.length).toBeLessThan(200);
  });

  it('keeps hostile characters out of reasons', () => {
    const r = parseUnsubscribeAddress('evil\r\nX-Injected: 1@unsub.example.com', DOMAINS);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).not.toMatch(/[\r\n]/);
  });

  it('never throws, whatever the input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const r = parseUnsubscribeAddress(s, DOMAINS);
        expect(typeof r.ok).toBe('boolean');
      }),
    );
  });

  it('with no domains configured, nothing is accepted', () => {
    expect(parseUnsubscribeAddress(GOOD, [])).toMatchObject({ ok: false, verdict: 'unknown-domain' });
  });
});

describe('checkVerdicts', () => {
  it.each([
    { case: 'all PASS', spam: 'PASS', virus: 'PASS', expected: { ok: true } },
    { case: 'absent (pipe)', spam: undefined, virus: undefined, expected: { ok: true } },
    { case: 'spam GRAY', spam: 'GRAY', virus: 'PASS', expected: { ok: true } },
    { case: 'spam PROCESSING_FAILED', spam: 'PROCESSING_FAILED', virus: 'PASS', expected: { ok: true } },
    { case: 'scanning DISABLED', spam: 'DISABLED', virus: 'DISABLED', expected: { ok: true } },
    { case: 'spam FAIL', spam: 'FAIL', virus: 'PASS', expected: { ok: false, verdict: 'spam' } },
    { case: 'virus FAIL', spam: 'PASS', virus: 'FAIL', expected: { ok: false, verdict: 'virus' } },
    { case: 'both FAIL: virus wins', spam: 'FAIL', virus: 'FAIL', expected: { ok: false, verdict: 'virus' } },
    { case: 'lower-case fail', spam: 'fail', virus: undefined, expected: { ok: false, verdict: 'spam' } },
  ])('$case', ({ spam, virus, expected }) => {
    expect(checkVerdicts({ spam, virus })).toMatchObject(expected);
  });
});

describe('decideInboundUnsubscribe', () => {
  const router = createRouter([
    { id: 'mw', type: 'mailwizz', senders: ['news@example.com'] },
    { id: 'iem', type: 'interspire' },
  ]);
  const mail = (recipients: string[], spam = 'PASS') => ({
    recipients,
    verdicts: { spam, virus: 'PASS' },
    mailId: 'm1',
    receivedAt: 1_700_000_000_000,
  });

  it('list scope: a ref action routed to mailwizz providers only', () => {
    const [d] = decideInboundUnsubscribe(mail([GOOD]), { domains: DOMAINS, scope: 'list', router });
    expect(d).toMatchObject({ verdict: 'accepted', everywhere: false });
    if (d?.verdict !== 'accepted') throw new Error('expected accepted');
    expect(d.request).toEqual({
      subject: `ref:mailwizz:${L}:${S}`,
      kind: 'unsubscribe',
      reason: d.reason,
      recordKey: `unsub:m1:${GOOD}`,
      at: 1_700_000_000_000,
      providers: ['mw'],
      expiresAt: 1_700_000_000_000 + UNVERIFIED_TTL_MS,
    });
    const action = inboundUnsubscribeAction(d, ['mw']);
    expect(action).toEqual({
      v: 1,
      id: `ref:mailwizz:${L}:${S}`,
      subject: `ref:mailwizz:${L}:${S}`,
      target: { type: 'ref', ref: { providerType: 'mailwizz', subscriberId: S, listId: L, campaignId: C } },
      kind: 'unsubscribe',
      reason: d.reason,
      requestedAt: 1_700_000_000_000,
      occurredAt: 1_700_000_000_000,
      providers: ['mw'],
      unverifiedUntil: 1_700_000_000_000 + UNVERIFIED_TTL_MS,
    });
  });

  it('everywhere scope: still by ids, flagged everywhere', () => {
    const [d] = decideInboundUnsubscribe(mail([GOOD]), { domains: DOMAINS, scope: 'everywhere', router });
    if (d?.verdict !== 'accepted') throw new Error('expected accepted');
    expect(inboundUnsubscribeAction(d, ['mw'])).toMatchObject({ everywhere: true, target: { type: 'ref' } });
    expect(d.reason).toMatch(/everywhere/);
  });

  it('a spam FAIL refuses every recipient, good or not', () => {
    const ds = decideInboundUnsubscribe(mail([GOOD, 'x@example.com'], 'FAIL'), {
      domains: DOMAINS,
      scope: 'list',
      router,
    });
    expect(ds.map((d) => d.verdict)).toEqual(['spam', 'spam']);
    expect(ds[0]?.ref).toMatchObject({ subscriberId: S });
  });
});

describe('recordInboundUnsubscribes', () => {
  const router = createRouter([{ id: 'mw', type: 'mailwizz' }]);
  const settings = { domains: DOMAINS, scope: 'list' as const, router };
  const base = { verdicts: { spam: 'PASS', virus: 'PASS' }, mailId: 'm1', receivedAt: 1_700_000_000_000 };

  it('suppresses once, sends one action per subject, then nothing on replay', async () => {
    const store = Object.assign(new MemorySuppressionStore(), { now: () => 1_700_000_000_000 });
    const upper = GOOD.toUpperCase();
    const first = await recordInboundUnsubscribes(
      { ...base, recipients: [GOOD, upper, 'bad@unsub.example.com'] },
      settings,
      store,
    );
    expect(first.results.map((r) => [r.verdict, r.state])).toEqual([
      ['accepted', 'new'],
      ['accepted', 'already'],
      ['malformed', undefined],
    ]);
    expect(first.actions).toHaveLength(1);
    expect(first.actions[0]?.providers).toEqual(['mw']);
    // Not yet done at the provider: a replay re-sends (at-least-once), after done it does not.
    const again = await recordInboundUnsubscribes({ ...base, recipients: [GOOD] }, settings, store);
    expect(again.results[0]?.state).toBe('pending');
    expect(again.actions).toHaveLength(1);
    await store.markProvider(`ref:mailwizz:${L}:${S}`, 'mw', 'done');
    const done = await recordInboundUnsubscribes({ ...base, recipients: [GOOD] }, settings, store);
    expect(done.results[0]?.state).toBe('already');
    expect(done.actions).toEqual([]);
  });

  it('no mailwizz provider: recorded only, no action', async () => {
    const store = Object.assign(new MemorySuppressionStore(), { now: () => 1_700_000_000_000 });
    const out = await recordInboundUnsubscribes(
      { ...base, recipients: [GOOD] },
      { ...settings, router: createRouter([]) },
      store,
    );
    expect(out.actions).toEqual([]);
    expect(out.results[0]?.reason).toMatch(/recorded only/);
    expect(store.suppressions.size).toBe(1);
  });

  it('refused mail changes no state but is audited on the named subscription', async () => {
    const store = Object.assign(new MemorySuppressionStore(), { now: () => 1_700_000_000_000 });
    const out = await recordInboundUnsubscribes(
      { ...base, verdicts: { spam: 'PASS', virus: 'FAIL' }, recipients: [GOOD] },
      settings,
      store,
    );
    expect(out.actions).toEqual([]);
    expect(store.suppressions.size).toBe(0);
    expect(store.audit).toMatchObject([{ subject: `ref:mailwizz:${L}:${S}`, action: 'ignore' }]);
  });
});
