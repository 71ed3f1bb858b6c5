import { describe, expect, it } from 'vitest';
import { softBouncesInWindow } from '#core/decide/soft-bounce-window.ts';

const D = 10;

describe('softBouncesInWindow', () => {
  it.each([
    { case: 'alone', ts: [], at: 100, n: 1 },
    { case: 'in order, all inside', ts: [91, 95, 100], at: 100, n: 3 },
    { case: 'exactly at the edge counts', ts: [90, 100], at: 100, n: 2 },
    { case: 'one past the edge does not', ts: [89, 100], at: 100, n: 1 },
    { case: 'decided first, later ones within the window', ts: [100, 104, 109], at: 100, n: 3 },
    { case: 'neighbours on both sides farther apart than the window', ts: [92, 100, 108], at: 100, n: 2 },
    { case: 'the densest window wins', ts: [85, 91, 95, 100, 111, 112], at: 100, n: 3 },
    { case: 'self already in the history is not counted twice', ts: [100, 101], at: 100, n: 2 },
  ])('$case', ({ ts, at, n }) => {
    expect(softBouncesInWindow(ts, at, D)).toBe(n);
  });
});
