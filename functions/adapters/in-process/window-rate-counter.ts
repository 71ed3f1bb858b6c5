/**
 * A RateCounter (core/unsubscribe/unsubscribe-rate-limit.ts) in this process's memory, for
 * `pmta-bounce serve`: one process answers every request, and a limit need not survive a restart.
 * Only the current window is kept, and at most MAX_KEYS keys in it; keys past that share one
 * overflow counter, so a flood of client addresses cannot grow memory.
 */
import type { RateCounter } from '#core/ports.ts';

const MAX_KEYS = 50_000;
const OVERFLOW = '(overflow)';

class WindowRateCounter implements RateCounter {
  #windowStart = -1;
  readonly #counts = new Map<string, number>();

  constructor(private readonly maxKeys = MAX_KEYS) {}

  async increment(keys: readonly string[], windowStart: number): Promise<number[]> {
    if (windowStart !== this.#windowStart) {
      this.#counts.clear();
      this.#windowStart = windowStart;
    }
    return keys.map((key) => {
      const slot = this.#counts.has(key) || this.#counts.size < this.maxKeys ? key : OVERFLOW;
      const count = (this.#counts.get(slot) ?? 0) + 1;
      this.#counts.set(slot, count);
      return count;
    });
  }

  /** Keys held now (for tests of the bound). */
  get size(): number {
    return this.#counts.size;
  }
}

export { WindowRateCounter };
