/**
 * Spoofed or hostile unsubscribe mail changes nothing: no suppression, no action. Adds to
 * test/integration/inbound-unsubscribe.test.ts (verdict FAIL, malformed uids, unknown domain,
 * one oversized address) the cases it lacks: header-injection attempts, Unicode lookalikes,
 * oversized and numerous recipients, hostile verdict values and message ids.
 */
import { readFileSync } from 'node:fs';
import type { SESEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createMemoryMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import type { Action } from '#core/act/action.ts';
import { createRouter } from '#core/decide/routing.ts';
import type { SuppressionRequest } from '#core/ports.ts';
import { handleInboundUnsubscribeEvent } from '#lambda/unsub/unsub.ts';
import { MemorySuppressionStore } from '#test/support/memory-suppression-store.ts';

const FIXTURE = readFileSync(new URL('../fixtures/ses/unsubscribe-pass.json', import.meta.url), 'utf8');
const S = 'ab12cd34ef567';
const L = 'lq981kz0aa2bc';
const C = 'cmp00000000zz';
const GOOD = `${S}.${L}.${C}@unsub.example.com`;

function sesEvent(
  recipients: unknown,
  change: (ses: SESEvent['Records'][0]['ses']) => void = () => {},
): SESEvent {
  const event = JSON.parse(FIXTURE) as SESEvent;
  const ses = event.Records[0]!.ses;
  (ses.receipt as { recipients: unknown }).recipients = recipients;
  change(ses);
  return event;
}

function setup() {
  const store = new MemorySuppressionStore();
  const suppressed: SuppressionRequest[] = [];
  const real = store.suppress.bind(store);
  store.suppress = async (requests) => {
    suppressed.push(...requests);
    return real(requests);
  };
  const sent: Action[] = [];
  const logs: Array<{ message: string; extra?: Record<string, unknown> }> = [];
  const log = (message: string, extra?: Record<string, unknown>) => void logs.push({ message, extra });
  const deps = {
    settings: {
      domains: ['unsub.example.com'],
      scope: 'list' as const,
      router: createRouter([{ id: 'mw', type: 'mailwizz' }]),
    },
    store,
    actions: { send: async (actions: readonly Action[]) => void sent.push(...actions) },
    metrics: createMemoryMetricSink(),
    log: { info: log, warn: log, error: log },
    now: () => 1_800_000_000_000,
  };
  return { deps, suppressed, sent, logs };
}

const KELVIN = '\u212A'; // lower-cases to ASCII "k"
const DOTLESS_I = '\u0131';

describe('spoofed unsubscribe mail changes nothing', () => {
  it.each([
    { case: 'CRLF header injection after the address', recipients: [`${GOOD}\r\nBcc: victim@example.com`] },
    { case: 'LF inside the local part', recipients: [`${S}.${L}\n.${C}@unsub.example.com`] },
    { case: 'NUL before the domain', recipients: [`${S}.${L}.${C}\u0000@unsub.example.com`] },
    {
      case: 'a second @ smuggling our domain',
      recipients: [`${S}.${L}.${C}@evil.example@unsub.example.com`],
    },
    { case: 'display name wrapping', recipients: [`"Unsub" <${GOOD}>`] },
    {
      case: 'Cyrillic lookalike in a uid',
      recipients: [`${S.replace('a', '\u0430')}.${L}.${C}@unsub.example.com`],
    },
    {
      case: 'Kelvin sign lower-casing to k',
      recipients: [`${S}.${L.replace('k', KELVIN)}.${C}@unsub.example.com`],
    },
    { case: 'dotless i in the domain', recipients: [`${GOOD.replace('@unsub.', `@uns${DOTLESS_I}b.`)}`] },
    {
      case: 'fullwidth digits in a uid',
      recipients: [`${S.replace('1', '\uFF11')}.${L}.${C}@unsub.example.com`],
    },
    { case: 'zero-width space in a uid', recipients: [`${S}\u200B.${L}.${C}@unsub.example.com`] },
    { case: 'Punycode lookalike domain', recipients: [`${S}.${L}.${C}@xn--unsb-example-xyz.com`] },
    { case: 'oversized domain', recipients: [`${S}.${L}.${C}@${'a'.repeat(300)}.unsub.example.com`] },
    { case: 'a 1 MB address', recipients: [`${'a'.repeat(1 << 20)}@unsub.example.com`] },
    { case: 'recipients not an array', recipients: GOOD },
    { case: 'recipients as objects and numbers', recipients: [{ address: GOOD }, 42, null] },
    { case: 'empty recipients', recipients: [] },
  ])('$case: no suppression, no action', async ({ recipients }) => {
    const t = setup();
    const summary = await handleInboundUnsubscribeEvent(sesEvent(recipients), t.deps);
    expect(summary.accepted).toBe(0);
    expect(t.suppressed).toEqual([]);
    expect(t.sent).toEqual([]);
    // Whatever came in, what is logged stays short and on one line.
    for (const entry of t.logs) {
      const recipient = String(entry.extra?.recipient ?? '');
      expect(recipient.length).toBeLessThan(300);
      expect(entry.message).not.toMatch(/[\r\n]/);
    }
  });

  it.each([
    { case: 'spam FAIL in lower case', change: { spam: 'fail' } },
    { case: 'virus FAIL with spam PASS', change: { spam: 'PASS', virus: 'FAIL' } },
  ])('a good address with $case: refused', async ({ change }) => {
    const t = setup();
    const summary = await handleInboundUnsubscribeEvent(
      sesEvent([GOOD], (ses) => {
        if (change.spam) ses.receipt.spamVerdict = { status: change.spam as 'FAIL' };
        if (change.virus) ses.receipt.virusVerdict = { status: change.virus as 'FAIL' };
      }),
      t.deps,
    );
    expect(summary).toMatchObject({ accepted: 0, actions: 0 });
    expect(t.suppressed).toEqual([]);
    expect(t.sent).toEqual([]);
  });

  it('thousands of recipients: at most 50 looked at, all refused when spam FAIL', async () => {
    const t = setup();
    const many = Array.from(
      { length: 5000 },
      (_, i) => `${String(i).padStart(13, '0')}.${L}.${C}@unsub.example.com`,
    );
    const summary = await handleInboundUnsubscribeEvent(
      sesEvent(many, (ses) => {
        ses.receipt.spamVerdict = { status: 'FAIL' };
      }),
      t.deps,
    );
    expect(summary.recipients).toBe(50);
    expect(summary.accepted).toBe(0);
    expect(t.sent).toEqual([]);
    expect(t.logs.some((l) => l.message === 'too many recipients: the rest ignored')).toBe(true);
  });

  it('a hostile message id and timestamp cannot break the record key or the logs', async () => {
    const t = setup();
    const summary = await handleInboundUnsubscribeEvent(
      sesEvent([GOOD], (ses) => {
        ses.mail.messageId = `x\r\nforged: yes${'y'.repeat(100_000)}`;
        ses.mail.timestamp = 'not a date';
      }),
      t.deps,
    );
    // A good address with passing verdicts is still honoured; its key is bounded.
    expect(summary.accepted).toBe(1);
    expect(t.suppressed).toHaveLength(1);
    expect(t.suppressed[0]!.recordKey.length).toBeLessThan(500);
    expect(t.suppressed[0]!.at).toBe(1_800_000_000_000);
  });
});
