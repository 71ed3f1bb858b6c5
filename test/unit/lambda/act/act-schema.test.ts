/**
 * act's message schema keeps every field of an Action: zod drops keys it does not name, and a
 * dropped field changes what act does without a word (an undo run as an unsubscribe; a by-ids
 * action never widened; an unverified suppression made permanent). `Required<Action>` makes this
 * test name every field: a field added to Action fails typecheck here until it is added below, and
 * then this test until the schema keeps it.
 */
import { describe, expect, it } from 'vitest';
import type { Action } from '#core/act/action.ts';
import { actionSchema } from '#lambda/act/act.ts';

const BY_ADDRESS: Required<Action> = {
  v: 1,
  id: 'undo:ann@example.com:1764000000000',
  subject: 'ann@example.com',
  target: { type: 'email', address: 'ann@example.com' },
  kind: 'manual',
  reason: 'undo (bad rule) by operator',
  category: 'bad-mailbox',
  rule: 'r-550-user-unknown',
  bounceType: 'hard',
  jobId: 'job-41',
  occurredAt: 1_764_000_000_000,
  providers: ['mw', 'iem', 'hook'],
  everywhere: true,
  unverifiedUntil: 1_764_086_400_000,
  requestedAt: 1_763_999_000_000,
  undo: {
    lists: {
      mw: [{ listId: 'lw1', previousStatus: 'unconfirmed' }, { listId: 'lw2' }],
      iem: [{ listId: '3', previousStatus: 'active' }],
    },
  },
};

const BY_IDS: Action = {
  ...BY_ADDRESS,
  subject: 'ref:mailwizz:lw1:sub9',
  target: {
    type: 'ref',
    ref: { providerType: 'mailwizz', listId: 'lw1', subscriberId: 'sub9', campaignId: 'c7' },
  },
};

/** As the queue carries it: JSON out, JSON in. */
const roundTrip = (action: Action) => actionSchema.parse(JSON.parse(JSON.stringify(action)));

describe('act message schema', () => {
  it.each([
    ['an address action with every field', BY_ADDRESS],
    ['a by-ids action with every field', BY_IDS],
  ])('keeps %s', (_name, action) => {
    expect(roundTrip(action)).toStrictEqual(action);
  });

  it('keeps an undo action as undo (the field that tells act to put back, not take off)', () => {
    const { everywhere: _e, unverifiedUntil: _u, requestedAt: _r, ...undo } = BY_ADDRESS;
    expect(roundTrip(undo).undo).toStrictEqual(BY_ADDRESS.undo);
  });

  it.each([
    ['an undo without lists', { ...BY_ADDRESS, undo: {} }],
    ['an undo list without its id', { ...BY_ADDRESS, undo: { lists: { mw: [{ previousStatus: 'x' }] } } }],
    ['an unknown kind', { ...BY_ADDRESS, kind: 'resubscribe' }],
  ])('refuses %s', (_name, body) => {
    expect(() => actionSchema.parse(body)).toThrow();
  });
});
