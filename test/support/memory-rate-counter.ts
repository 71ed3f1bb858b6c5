/** An in-memory RateCounter with the adapters' semantics (test/contract/rate-counter-contract.ts). */
import type { RateCounter } from '#core/ports.ts';

class MemoryRateCounter implements RateCounter {
  readonly counters = new Map<string, { count: number; expiresAt: number }>();

  async increment(keys: readonly string[], windowStart: number, expiresAt: number): Promise<number[]> {
    return keys.map((key) => {
      const id = `${key}#${windowStart}`;
      const entry = this.counters.get(id) ?? { count: 0, expiresAt };
      entry.count += 1;
      this.counters.set(id, entry);
      return entry.count;
    });
  }
}

export { MemoryRateCounter };
