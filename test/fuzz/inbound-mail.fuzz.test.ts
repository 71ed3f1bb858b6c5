/**
 * SES events and unsubscribe mail under generated input: header blocks, address lists, recipient
 * addresses and whole SES-shaped events with arbitrary values. Never a throw; limits hold; only a
 * well-formed ASCII address at a configured domain is ever accepted; every refusal has a reason.
 */

import type { SESEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMemoryMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { createRouter } from '#core/decide/routing.ts';
import { decideInboundUnsubscribe, parseUnsubscribeAddress } from '#core/unsubscribe/inbound-unsubscribe.ts';
import { parseAddressList, parseMailHeaders } from '#core/unsubscribe/mail-headers.ts';
import { handleInboundUnsubscribeEvent } from '#lambda/unsub/unsub.ts';
import { MemorySuppressionStore } from '#test/support/memory-suppression-store.ts';
import { runs, timeoutFor } from './fuzz-runs.ts';

const DOMAINS = ['unsub.example.com'];
const ACCEPTED = /^[a-z0-9]{13}\.[a-z0-9]{13}\.[a-z0-9]{13}@unsub\.example\.com$/;

const headerLine = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc
    .tuple(fc.constantFrom('To', 'From', 'Subject', 'X:', 'Bad Name', ''), fc.string({ maxLength: 60 }))
    .map(([n, v]) => `${n}: ${v}`),
  fc.string({ maxLength: 40 }).map((v) => ` ${v}`),
);
const mailText = fc
  .tuple(fc.array(headerLine, { maxLength: 40 }), fc.constantFrom('\n', '\r\n', '\r'), fc.boolean())
  .map(([lines, eol, body]) => lines.join(eol) + (body ? `${eol}${eol}body` : ''));

/** Near-miss unsubscribe addresses: right shape with random damage, or noise. */
const uid = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{13}$/),
  fc.stringMatching(/^[A-Za-z0-9]{12,14}$/),
  fc.string({ minLength: 13, maxLength: 13 }),
);
const address = fc.oneof(
  fc
    .tuple(
      uid,
      uid,
      uid,
      fc.constantFrom(
        'unsub.example.com',
        'UNSUB.example.com',
        'unsub.example.com.',
        'example.org',
        'unsub.example.com.evil',
      ),
    )
    .map(([a, b, c, d]) => `${a}.${b}.${c}@${d}`),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 80 }),
);

describe('mail and SES event parsing: fuzz', () => {
  const n = runs();
  it(
    'header blocks: never a throw, within the limits',
    () => {
      fc.assert(
        fc.property(
          mailText,
          fc.integer({ min: 1, max: 10 }),
          fc.integer({ min: 1, max: 50 }),
          (text, maxHeaders, maxValueLength) => {
            const parsed = parseMailHeaders(text, { maxHeaders, maxValueLength });
            expect(parsed.headers.length).toBeLessThanOrEqual(maxHeaders);
            for (const h of parsed.headers) {
              expect(h.value.length).toBeLessThanOrEqual(maxValueLength);
              expect(h.name).toMatch(/^[\x21-\x39\x3b-\x7e]+$/);
            }
          },
        ),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it(
    'address lists: never a throw; every address has an @ and no whitespace',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 200 }),
            fc.array(address, { maxLength: 5 }).map((a) => a.join(', ')),
          ),
          (value) => {
            for (const a of parseAddressList(value)) {
              expect(a).toContain('@');
              expect(a).not.toMatch(/\s/);
            }
          },
        ),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it(
    'recipients: only the exact ASCII form is accepted; refusals say why on one printable line',
    () => {
      fc.assert(
        fc.property(
          fc.array(address, { minLength: 1, maxLength: 4 }),
          fc.constantFrom(undefined, 'PASS', 'FAIL', 'fail', 'GRAY'),
          (recipients, spam) => {
            const decisions = decideInboundUnsubscribe(
              { recipients, verdicts: { spam }, mailId: 'm', receivedAt: 0 },
              { domains: DOMAINS, scope: 'list', router: createRouter([]) },
            );
            expect(decisions).toHaveLength(recipients.length);
            for (const d of decisions) {
              if (d.verdict === 'accepted') {
                expect(d.recipient).toMatch(ACCEPTED);
                expect(spam?.toUpperCase()).not.toBe('FAIL');
              } else {
                expect(d.reason).toMatch(/^[\x20-\x7e]{5,300}$/);
              }
            }
            for (const r of recipients) {
              const check = parseUnsubscribeAddress(r, DOMAINS);
              if (check.ok) expect(r).toMatch(/^[\x20-\x7e]*$/);
            }
          },
        ),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it(
    'SES-shaped events with arbitrary values: never a throw, nothing accepted unless well-formed',
    async () => {
      // SES's own types (strings where SES sends strings; it never sends objects there), any content.
      const value = fc.oneof(fc.string({ maxLength: 40 }), address);
      const event = fc.record({
        Records: fc.array(
          fc.record({
            eventSource: fc.constantFrom('aws:ses', 'aws:sqs'),
            ses: fc.option(
              fc.record({
                mail: fc.record({ timestamp: value, messageId: value }),
                receipt: fc.record({
                  recipients: fc.oneof(fc.array(value, { maxLength: 60 }), value, fc.constant(null)),
                  spamVerdict: fc.record({ status: fc.oneof(value, fc.constantFrom('PASS', 'FAIL')) }),
                  virusVerdict: fc.option(fc.record({ status: fc.constantFrom('PASS', 'FAIL', 'GRAY') })),
                }),
              }),
            ),
          }),
          { maxLength: 3 },
        ),
      });
      await fc.assert(
        fc.asyncProperty(event, async (e) => {
          const store = new MemorySuppressionStore();
          const sent: unknown[] = [];
          const summary = await handleInboundUnsubscribeEvent(e as unknown as SESEvent, {
            settings: {
              domains: DOMAINS,
              scope: 'list',
              router: createRouter([{ id: 'mw', type: 'mailwizz' }]),
            },
            store,
            actions: { send: async (a) => void sent.push(...a) },
            metrics: createMemoryMetricSink(),
            log: { info: () => {}, warn: () => {}, error: () => {} },
            now: () => 0,
          });
          expect(summary.accepted + summary.refused).toBe(summary.recipients);
          expect(sent.length).toBeLessThanOrEqual(summary.accepted);
        }),
        { numRuns: n },
      );
    },
    timeoutFor(n, 5),
  );
});
