/**
 * How many requests one provider may have in flight right now: an AIMD window under the
 * provider's `concurrency`, its ceiling (docs/providers.md, "Requests in flight"). It starts at
 * INITIAL_WINDOW (the ceiling when lower) and grows while answers come back about as fast as the
 * fastest one: by one per answer until the first sign of congestion (the window doubles
 * each round trip), by one per round trip after it. A sign of congestion (429, 5xx, 408, a timeout,
 * a failed connection) halves it, once per round trip: answers to requests sent before the last
 * cut do not cut again. A server whose workers are all busy answers later, not with errors
 * (PHP-FPM queues requests): slower answers take the window back by one per round trip, but not
 * below where it started (latency alone also rises when this process is short of CPU).
 */

/** Where the window starts: MailWizz's former fixed default, and every other provider's ceiling. */
const INITIAL_WINDOW = 8;
/** "About as fast": at most twice the fastest answer, plus this much for timer and event-loop jitter. */
const FLAT_LATENCY_SLACK_MS = 10;

interface CallOutcome {
  /** From the start of the request to the end of its answer. */
  latencyMs: number;
  /** 429, 5xx, 408, a timeout or a failed connection. */
  congested: boolean;
}

class AdaptiveWindow {
  readonly ceiling: number;
  readonly #initial: number;
  #window: number;
  /** Until the first congestion the window grows by one per answer, then by one per round trip. */
  #slowStart = true;
  #lastCutAt = Number.NEGATIVE_INFINITY;
  /**
   * The fastest answer seen, never forgotten: under a steady queue every recent answer is slow,
   * so a recent minimum would take the queue for the server's speed. A server that became slower
   * for good only keeps the window at its start.
   */
  #fastest = Number.POSITIVE_INFINITY;

  constructor(ceiling: number, initial = INITIAL_WINDOW) {
    this.ceiling = Math.max(1, ceiling);
    this.#initial = Math.min(this.ceiling, Math.max(1, initial));
    this.#window = this.#initial;
  }

  /** Requests allowed in flight now (at least 1, at most the ceiling). */
  get limit(): number {
    return Math.floor(this.#window);
  }

  /**
   * One finished request. `startedAt`: when it was sent (same clock as `now`); `windowFull`: the
   * window was full when it was sent (growth is earned only by a window that is used).
   */
  record(outcome: CallOutcome, startedAt: number, windowFull: boolean, now: number): void {
    if (outcome.congested) {
      if (startedAt < this.#lastCutAt) return;
      this.#window = Math.max(1, this.#window / 2);
      this.#slowStart = false;
      this.#lastCutAt = now;
      return;
    }
    this.#fastest = Math.min(this.#fastest, outcome.latencyMs);
    if (!windowFull) return;
    if (outcome.latencyMs > 2 * this.#fastest + FLAT_LATENCY_SLACK_MS) {
      // Queueing at the server: one back per round trip, down to the start.
      this.#slowStart = false;
      if (this.#window > this.#initial)
        this.#window = Math.max(this.#initial, this.#window - 1 / this.#window);
      return;
    }
    this.#window = Math.min(this.ceiling, this.#window + (this.#slowStart ? 1 : 1 / this.#window));
  }
}

export type { CallOutcome };
export { AdaptiveWindow, FLAT_LATENCY_SLACK_MS, INITIAL_WINDOW };
