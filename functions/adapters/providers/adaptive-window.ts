/**
 * How many requests one provider may have in flight right now: an AIMD window under the
 * provider's `concurrency`, its ceiling (docs/providers.md, "Requests in flight"). It starts at
 * INITIAL_WINDOW (the ceiling when lower) and grows while answers come back about as fast as the
 * fastest recent one: by one per answer until the first sign of congestion (the window doubles
 * each round trip), by one per round trip after it. A sign of congestion (429, 5xx, 408, a timeout,
 * a failed connection) halves it, once per round trip: answers to requests sent before the last
 * cut do not cut again. A server whose workers are all busy answers later, not with errors
 * (PHP-FPM queues requests), so growth stops when latency rises instead of pushing on.
 */

/** Where the window starts: MailWizz's former fixed default, and every other provider's ceiling. */
const INITIAL_WINDOW = 8;
/** "About as fast": at most twice the fastest recent answer, plus this much for timer and event-loop jitter. */
const FLAT_LATENCY_SLACK_MS = 10;
/** The fastest answer is taken over the last one or two spans of this many answers (servers change). */
const LATENCY_SPAN = 64;

interface CallOutcome {
  /** From the start of the request to the end of its answer. */
  latencyMs: number;
  /** 429, 5xx, 408, a timeout or a failed connection. */
  congested: boolean;
}

class AdaptiveWindow {
  readonly ceiling: number;
  #window: number;
  /** Until the first congestion the window grows by one per answer, then by one per round trip. */
  #slowStart = true;
  #lastCutAt = Number.NEGATIVE_INFINITY;
  #spanMin = Number.POSITIVE_INFINITY;
  #previousSpanMin = Number.POSITIVE_INFINITY;
  #spanCount = 0;

  constructor(ceiling: number, initial = INITIAL_WINDOW) {
    this.ceiling = Math.max(1, ceiling);
    this.#window = Math.min(this.ceiling, Math.max(1, initial));
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
    const fastest = this.#noteLatency(outcome.latencyMs);
    if (!windowFull || this.#window >= this.ceiling) return;
    if (outcome.latencyMs > 2 * fastest + FLAT_LATENCY_SLACK_MS) return;
    this.#window = Math.min(this.ceiling, this.#window + (this.#slowStart ? 1 : 1 / this.#window));
  }

  /** The fastest answer over the current and the previous span. */
  #noteLatency(latencyMs: number): number {
    this.#spanMin = Math.min(this.#spanMin, latencyMs);
    this.#spanCount += 1;
    const fastest = Math.min(this.#spanMin, this.#previousSpanMin);
    if (this.#spanCount >= LATENCY_SPAN) {
      this.#previousSpanMin = this.#spanMin;
      this.#spanMin = Number.POSITIVE_INFINITY;
      this.#spanCount = 0;
    }
    return fastest;
  }
}

export type { CallOutcome };
export { AdaptiveWindow, FLAT_LATENCY_SLACK_MS, INITIAL_WINDOW };
