/** Behaviours every RateCounter adapter must have (core/unsubscribe/unsubscribe-rate-limit.ts). */
import { describe, expect, it } from 'vitest';
import type { RateCounter } from '#core/ports.ts';

const W = 1_800_000_000_000;

function describeRateCounterContract(name: string, makeCounter: () => Promise<RateCounter>): void {
  describe(`RateCounter contract: ${name}`, () => {
    it('counts each key per window, in the order asked', async () => {
      const counter = await makeCounter();
      expect(await counter.increment(['sender:a.example', 'global'], W, W + 1200_000)).toEqual([1, 1]);
      expect(await counter.increment(['sender:b.example', 'global'], W, W + 1200_000)).toEqual([1, 2]);
      expect(await counter.increment(['sender:a.example', 'global'], W, W + 1200_000)).toEqual([2, 3]);
    });

    it('starts every window afresh', async () => {
      const counter = await makeCounter();
      await counter.increment(['global'], W, W + 1200_000);
      await counter.increment(['global'], W, W + 1200_000);
      expect(await counter.increment(['global'], W + 600_000, W + 1_800_000)).toEqual([1]);
    });

    it('counts concurrent increments exactly', async () => {
      const counter = await makeCounter();
      const all = await Promise.all(
        Array.from({ length: 20 }, () => counter.increment(['global'], W, W + 1200_000)),
      );
      expect(all.map(([n]) => n).sort((a, b) => a! - b!)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
    });
  });
}

export { describeRateCounterContract };
