/**
 * Forged mailto unsubscribes (issue 11 item 5; docs/security.md "SES mail"): signed addresses,
 * configurable verdicts, expiring state until a provider confirms the subscription, and the rate
 * limits. Through the unsub function's logic with the in-memory store and rate counter; the SQLite
 * and DynamoDB adapters pass the same port contracts (test/contract).
 */
import { readFileSync } from 'node:fs';
import type { SESEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createMemoryMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import type { Action } from '#core/act/action.ts';
import { runAction } from '#core/act/run-action.ts';
import { createRouter } from '#core/decide/routing.ts';
import { ListOutcome, type ListProvider } from '#core/ports.ts';
import type { InboundUnsubscribeSettings } from '#core/unsubscribe/inbound-unsubscribe.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';
import { handleInboundUnsubscribeEvent, UnsubscribeDeferredError } from '#lambda/unsub/unsub.ts';
import { MemoryRateCounter } from '#test/support/memory-rate-counter.ts';
import { MemorySuppressionStore } from '#test/support/memory-suppression-store.ts';

const FIXTURE = readFileSync(new URL('../fixtures/ses/unsubscribe-pass.json', import.meta.url), 'utf8');
const NOW = 1_800_000_000_000;
const S = 'ab12cd34ef567';
const L = 'lq981kz0aa2bc';
const C = 'cmp00000000zz';
const KEY = { id: 'k1', secret: 'a-signing-secret-of-at-least-32-chars' };
const IDS = { subscriberId: S, listId: L, campaignId: C };
const SIGNED = `${signUnsubscribeToken(IDS, KEY, hmacSha256)}@unsub.example.com`;
const UNSIGNED = `${S}.${L}.${C}@unsub.example.com`;
const SUBJECT = `ref:mailwizz:${L}:${S}`;

type Verdicts = Partial<Record<'spam' | 'virus' | 'spf' | 'dkim' | 'dmarc', string>>;

function sesEvent(
  recipients: string[],
  verdicts: Verdicts = {},
  source = 'reader@icloud.com',
  id = 'm1',
): SESEvent {
  const event = JSON.parse(FIXTURE) as SESEvent;
  const ses = event.Records[0]!.ses;
  ses.receipt.recipients = recipients;
  ses.mail.source = source;
  ses.mail.messageId = id;
  ses.mail.timestamp = new Date(NOW).toISOString();
  for (const [name, status] of Object.entries(verdicts))
    (ses.receipt as unknown as Record<string, unknown>)[`${name}Verdict`] = { status };
  return event;
}

function setup(settings: Partial<InboundUnsubscribeSettings> = {}) {
  const store = new MemorySuppressionStore();
  const sent: Action[] = [];
  const metrics = createMemoryMetricSink();
  const rateCounter = new MemoryRateCounter();
  const deps = {
    settings: {
      domains: ['unsub.example.com'],
      scope: 'list' as const,
      router: createRouter([{ id: 'mw', type: 'mailwizz' }]),
      ...settings,
    },
    store,
    rateCounter,
    actions: { send: async (actions: readonly Action[]) => void sent.push(...actions) },
    metrics,
    log: { info: () => {}, warn: () => {}, error: () => {} },
    now: () => NOW,
  };
  return { deps, store, sent, metrics, rateCounter };
}

const signing = { keys: [KEY], hmac: hmacSha256 };

describe('signed addresses', () => {
  it.each([
    { case: 'untagged', recipient: UNSIGNED, verdict: 'unsigned' },
    {
      case: 'wrong tag',
      recipient: SIGNED.replace(/.@/, (m) => `${m[0] === 'a' ? 'b' : 'a'}@`),
      verdict: 'bad-signature',
    },
    {
      case: 'tag of another subscriber',
      recipient: SIGNED.replace(S, 'zz12cd34ef567'),
      verdict: 'bad-signature',
    },
    { case: 'retired key id', recipient: SIGNED.replace('.k1', '.k9'), verdict: 'bad-signature' },
  ])('signing on, $case: refused, nothing stored or sent', async ({ recipient, verdict }) => {
    const t = setup({ signing });
    const summary = await handleInboundUnsubscribeEvent(sesEvent([recipient]), t.deps);
    expect(summary.accepted).toBe(0);
    expect(t.store.suppressions.size).toBe(0);
    expect(t.sent).toEqual([]);
    expect(t.metrics.total('InboundUnsubscribes', { Verdict: verdict })).toBe(1);
  });

  it('signing on, correctly signed: accepted', async () => {
    const t = setup({ signing });
    const summary = await handleInboundUnsubscribeEvent(sesEvent([SIGNED]), t.deps);
    expect(summary.accepted).toBe(1);
    expect(t.sent.map((a) => a.subject)).toEqual([SUBJECT]);
  });

  it('signing off: an untagged address is still accepted (the default)', async () => {
    const t = setup();
    expect((await handleInboundUnsubscribeEvent(sesEvent([UNSIGNED]), t.deps)).accepted).toBe(1);
  });
});

describe('SES verdicts that refuse, configurable', () => {
  it.each([
    { case: 'default: spam GRAY passes', verdicts: { spam: 'GRAY' }, refuse: undefined, accepted: 1 },
    { case: 'default: DMARC FAIL passes', verdicts: { dmarc: 'FAIL' }, refuse: undefined, accepted: 1 },
    { case: 'default: virus FAIL refuses', verdicts: { virus: 'FAIL' }, refuse: undefined, accepted: 0 },
    {
      case: 'spam GRAY refuses when listed',
      verdicts: { spam: 'GRAY' },
      refuse: { spam: ['FAIL', 'GRAY'] },
      accepted: 0,
    },
    {
      case: 'DMARC FAIL refuses when listed',
      verdicts: { dmarc: 'FAIL' },
      refuse: { dmarc: ['FAIL'] },
      accepted: 0,
    },
    {
      case: 'spam FAIL passes when not listed',
      verdicts: { spam: 'FAIL' },
      refuse: { spam: [] },
      accepted: 1,
    },
  ])('$case', async ({ verdicts, refuse, accepted }) => {
    const refuseVerdicts = refuse
      ? { spam: ['FAIL'], virus: ['FAIL'], spf: [], dkim: [], dmarc: [], ...refuse }
      : undefined;
    const t = setup(refuseVerdicts ? { refuseVerdicts } : {});
    const summary = await handleInboundUnsubscribeEvent(sesEvent([UNSIGNED], verdicts), t.deps);
    expect(summary.accepted).toBe(accepted);
  });
});

describe('nothing permanent before a provider confirms the subscription', () => {
  function provider(outcome: ListOutcome | 'down'): ListProvider {
    const result = (o: ListOutcome) => ({ provider: 'mw', lists: [{ listId: L, outcome: o }], calls: 1 });
    return {
      id: 'mw',
      type: 'mailwizz',
      unsubscribeEverywhere: async () => result(ListOutcome.notFound),
      unsubscribeFromList: async () => {
        if (outcome === 'down') throw new Error('connection refused');
        return result(outcome);
      },
      checkCredentials: async () => ({ ok: true, detail: '' }),
    };
  }

  it('an accepted mail leaves an expiring suppression and audit trail', async () => {
    const t = setup();
    await handleInboundUnsubscribeEvent(sesEvent([UNSIGNED]), t.deps);
    const status = await t.store.status(SUBJECT);
    expect(status.suppressed?.expiresAt).toBeGreaterThan(NOW);
    expect(status.audit.length).toBeGreaterThan(0);
    for (const entry of status.audit) expect(entry.expiresAt, entry.reason).toBeGreaterThan(NOW);
    expect(t.sent[0]!.unverifiedUntil).toBe(status.suppressed?.expiresAt);
  });

  it('a refused mail naming a subscription leaves only an expiring audit entry', async () => {
    const t = setup();
    await handleInboundUnsubscribeEvent(sesEvent([UNSIGNED], { spam: 'FAIL' }), t.deps);
    const status = await t.store.status(SUBJECT);
    expect(status.suppressed).toBeUndefined();
    expect(status.audit).toHaveLength(1);
    expect(status.audit[0]!.expiresAt).toBeGreaterThan(NOW);
  });

  it.each([
    { outcome: ListOutcome.done, permanent: true },
    { outcome: ListOutcome.already, permanent: true },
    { outcome: ListOutcome.notFound, permanent: false },
    { outcome: 'down' as const, permanent: false },
  ])('provider answers $outcome: permanent $permanent', async ({ outcome, permanent }) => {
    const t = setup();
    await handleInboundUnsubscribeEvent(sesEvent([UNSIGNED]), t.deps);
    await runAction(t.sent[0]!, new Map([['mw', provider(outcome)]]), t.store, () => NOW + 1000);
    const status = await t.store.status(SUBJECT);
    expect(status.suppressed).toBeDefined();
    if (permanent) {
      expect(status.suppressed?.expiresAt).toBeUndefined();
      for (const entry of status.audit) expect(entry.expiresAt, entry.reason).toBeUndefined();
    } else {
      expect(status.suppressed?.expiresAt).toBeGreaterThan(NOW);
      for (const entry of status.audit) expect(entry.expiresAt, entry.reason).toBeGreaterThan(NOW);
    }
  });
});

describe('rate limits', () => {
  const rateLimit = { windowMs: 600_000, perSenderDomain: 3, global: 5 };

  it('per sender domain: the fourth mail from one domain in a window is deferred, others go on', async () => {
    const t = setup({ rateLimit });
    const uid = (i: number) => `${String(i).padStart(13, '0')}.${L}.${C}@unsub.example.com`;
    for (let i = 0; i < 3; i += 1)
      await handleInboundUnsubscribeEvent(sesEvent([uid(i)], {}, `x${i}@flood.example`, `m${i}`), t.deps);
    await expect(
      handleInboundUnsubscribeEvent(sesEvent([uid(3)], {}, 'x3@flood.example', 'm3'), t.deps),
    ).rejects.toBeInstanceOf(UnsubscribeDeferredError);
    expect(t.store.suppressions.size).toBe(3);
    expect(t.metrics.total('UnsubscribeRateLimited', { Scope: 'sender-domain' })).toBe(1);
    expect(t.metrics.total('InboundUnsubscribes', { Verdict: 'rate-limited' })).toBe(1);
    // Another sender domain still gets through, up to the global limit.
    const other = await handleInboundUnsubscribeEvent(sesEvent([uid(4)], {}, 'a@gmail.com', 'm4'), t.deps);
    expect(other.accepted).toBe(1);
    // The next window starts afresh.
    t.deps.now = () => NOW + 600_000;
    const later = sesEvent([uid(3)], {}, 'x3@flood.example', 'm3');
    later.Records[0]!.ses.mail.timestamp = new Date(NOW + 600_000).toISOString();
    expect((await handleInboundUnsubscribeEvent(later, t.deps)).accepted).toBe(1);
  });

  it('global: a flood spread over many domains stops at the global limit', async () => {
    const t = setup({ rateLimit });
    let deferred = 0;
    for (let i = 0; i < 8; i += 1) {
      const recipient = `${String(i).padStart(13, '0')}.${L}.${C}@unsub.example.com`;
      await handleInboundUnsubscribeEvent(
        sesEvent([recipient], {}, `x@d${i}.example`, `m${i}`),
        t.deps,
      ).catch((error: unknown) => {
        if (!(error instanceof UnsubscribeDeferredError)) throw error;
        deferred += 1;
      });
    }
    expect(deferred).toBe(3);
    expect(t.store.suppressions.size).toBe(5);
    expect(t.metrics.total('UnsubscribeRateLimited', { Scope: 'global' })).toBe(3);
  });

  it('refused mail (unsigned, bad verdict) does not use up the limit', async () => {
    const t = setup({ rateLimit, signing });
    for (let i = 0; i < 10; i += 1)
      await handleInboundUnsubscribeEvent(sesEvent([UNSIGNED], {}, `x${i}@flood.example`, `m${i}`), t.deps);
    const good = await handleInboundUnsubscribeEvent(sesEvent([SIGNED], {}, 'x@flood.example', 'g'), t.deps);
    expect(good.accepted).toBe(1);
  });
});
