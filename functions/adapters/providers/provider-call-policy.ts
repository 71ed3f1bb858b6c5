/**
 * The calling discipline every provider adapter shares: a concurrency and rate limit per provider,
 * a timeout per request (AbortController), retries with exponential backoff and jitter on
 * transient failures (5xx, 429, 408, timeouts, connection errors), Retry-After honoured, and no
 * retry on anything else. Logs carry method, path (never the query), status and timing only.
 */
import type { ProviderBaseConfig } from '#core/config-schema.ts';
import { ProviderError, ProviderErrorKind } from '#core/errors.ts';
import type { CallOutcome } from './adaptive-window.ts';
import { createCallLimiter, SlotWaitExpiredError } from './call-limiter.ts';
import type { ResponseHeaders } from './http-fetch.ts';
import type { ProviderDeps } from './provider-definition.ts';
import { parseRetryAfter } from './retry-after.ts';

interface ProviderRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Absolute URL; its query may hold emails, so it is never logged. */
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** What logs and errors show instead of the URL path (when the path itself may be secret). */
  logPath?: string;
}

interface ProviderResponse {
  status: number;
  headers: ResponseHeaders;
  text: string;
}

/** Counts the HTTP requests of one operation, retries included (ProviderResult.calls). */
interface CallTally {
  calls: number;
}

interface SendOptions<T> {
  /**
   * For calls that are not idempotent: before each retry, ask whether an earlier attempt already
   * took effect (its response was lost). A value means "yes, use this result"; no retry is sent.
   */
  alreadyApplied?: () => Promise<T | undefined>;
}

interface ProviderCallPolicy {
  send<T>(
    tally: CallTally,
    build: () => ProviderRequest,
    interpret: (response: ProviderResponse) => T,
    options?: SendOptions<T>,
  ): Promise<T>;
}

type PolicyConfig = Pick<ProviderBaseConfig, 'concurrency' | 'ratePerSecond' | 'timeoutMs' | 'maxRetries'>;

const BACKOFF_BASE_MS = 250;
const BACKOFF_MAX_MS = 30_000;
/** A Retry-After longer than this is not slept through: the action stays pending for a later run. */
const RETRY_AFTER_MAX_MS = 120_000;

function requestPath(request: ProviderRequest): string {
  if (request.logPath) return request.logPath;
  try {
    return new URL(request.url).pathname;
  } catch {
    return '(invalid url)';
  }
}

/** The statuses of an overloaded or rate-limiting server: retried, and they halve the window. */
function isCongestionStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** Maps a status the adapter has no special meaning for to an error; undefined for 2xx. */
function errorForStatus(
  provider: string,
  response: ProviderResponse,
  nowMs: number,
): ProviderError | undefined {
  const { status } = response;
  if (status >= 200 && status < 300) return undefined;
  if (isCongestionStatus(status)) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), nowMs);
    return new ProviderError(provider, ProviderErrorKind.transient, `HTTP ${status}`, {
      status,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
  if (status === 401 || status === 403) {
    return new ProviderError(provider, ProviderErrorKind.auth, `HTTP ${status}: credentials refused`, {
      status,
    });
  }
  if (status >= 300 && status < 400) {
    // Redirects are not followed: they could carry our key headers to another host.
    return new ProviderError(provider, ProviderErrorKind.permanent, `unexpected redirect (HTTP ${status})`, {
      status,
    });
  }
  return new ProviderError(provider, ProviderErrorKind.permanent, `HTTP ${status}`, { status });
}

function createProviderCallPolicy(
  providerId: string,
  config: PolicyConfig,
  deps: ProviderDeps,
): ProviderCallPolicy {
  return new CallPolicy(providerId, config, deps);
}

/** Retries with backoff under the provider's limits, never past the invocation's deadline. */
class CallPolicy implements ProviderCallPolicy {
  readonly #limiter: ReturnType<typeof createCallLimiter>;

  constructor(
    private readonly providerId: string,
    private readonly config: PolicyConfig,
    private readonly deps: ProviderDeps,
  ) {
    this.#limiter = createCallLimiter({
      concurrency: config.concurrency,
      ratePerSecond: config.ratePerSecond,
      now: deps.now,
      sleep: deps.sleep,
    });
  }

  async send<T>(
    tally: CallTally,
    build: () => ProviderRequest,
    interpret: (response: ProviderResponse) => T,
    options: SendOptions<T> = {},
  ): Promise<T> {
    const attempts = this.config.maxRetries + 1;
    for (let attempt = 1; ; attempt += 1) {
      if (attempt > 1 && options.alreadyApplied) {
        const applied = await options.alreadyApplied();
        if (applied !== undefined) return applied;
      }
      const request = build();
      let status: number | undefined;
      try {
        const response = await this.#attemptOnce(request, tally, attempt);
        status = response.status;
        return interpret(response);
      } catch (caught) {
        const error = this.#asProviderError(caught, status);
        const final =
          error.kind !== ProviderErrorKind.transient ||
          attempt >= attempts ||
          (error.retryAfterMs ?? 0) > RETRY_AFTER_MAX_MS;
        const delay = final ? 0 : this.#backoffMs(attempt, error.retryAfterMs);
        // Not slept through: a Retry-After beyond our patience, or a wait (plus the next call)
        // that would outlast the deadline. The action comes back later, after that delay.
        if (final || this.#pastDeadline(delay)) {
          this.#logFailure('error', request, error, attempt);
          throw error;
        }
        this.#logFailure('retry', request, error, attempt, delay);
        await this.deps.sleep(delay);
      }
    }
  }

  async #attemptOnce(request: ProviderRequest, tally: CallTally, attempt: number): Promise<ProviderResponse> {
    const { config, deps, providerId } = this;
    // A call must be able to finish (its whole timeout) before the deadline, or not start at all.
    const deadline = deps.deadlineAt?.();
    let release: (outcome?: CallOutcome) => void;
    try {
      release = await this.#limiter.acquire(deadline === undefined ? undefined : deadline - config.timeoutMs);
    } catch (error) {
      if (!(error instanceof SlotWaitExpiredError)) throw error;
      throw new ProviderError(providerId, ProviderErrorKind.transient, `${error.message}: retrying later`);
    }
    const path = requestPath(request);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.timeoutMs);
    const startedAt = deps.now();
    tally.calls += 1;
    // A failed connection or a timeout until an answer says otherwise (the window reads it).
    let congested = true;
    try {
      const response = await deps.fetch(request.url, {
        method: request.method,
        headers: request.headers,
        ...(request.body === undefined ? {} : { body: request.body }),
        signal: controller.signal,
        redirect: 'manual',
      });
      const text = await response.text();
      const durationMs = deps.now() - startedAt;
      congested = isCongestionStatus(response.status);
      deps.log({
        provider: providerId,
        event: 'call',
        method: request.method,
        path,
        status: response.status,
        durationMs,
        attempt,
      });
      return { status: response.status, headers: response.headers, text };
    } catch (error) {
      // The cause is not attached: fetch errors can echo the request URL.
      const message = controller.signal.aborted
        ? `timed out after ${config.timeoutMs} ms (${request.method} ${path})`
        : `connection failed (${request.method} ${path}: ${networkCode(error)})`;
      throw new ProviderError(providerId, ProviderErrorKind.transient, message);
    } finally {
      clearTimeout(timer);
      release({ latencyMs: deps.now() - startedAt, congested });
    }
  }

  #backoffMs(attempt: number, retryAfterMs: number | undefined): number {
    const exponential = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
    // "Equal jitter": at least half the step, so retries never stampede yet always back off.
    const jittered = exponential / 2 + (exponential / 2) * this.deps.random();
    return Math.max(jittered, retryAfterMs ?? 0);
  }

  #pastDeadline(delayMs: number): boolean {
    const deadline = this.deps.deadlineAt?.();
    return deadline !== undefined && this.deps.now() + delayMs + this.config.timeoutMs > deadline;
  }

  #asProviderError(error: unknown, status: number | undefined): ProviderError {
    if (error instanceof ProviderError) return error;
    // The adapter could not read the answer (a proxy's HTML page, truncated JSON): try again later.
    return new ProviderError(
      this.providerId,
      ProviderErrorKind.transient,
      `unexpected response${status === undefined ? '' : ` (HTTP ${status})`}`,
      status === undefined ? {} : { status },
    );
  }

  #logFailure(
    event: 'error' | 'retry',
    request: ProviderRequest,
    error: ProviderError,
    attempt: number,
    delay?: number,
  ): void {
    this.deps.log({
      provider: this.providerId,
      event,
      method: request.method,
      path: requestPath(request),
      ...(error.status === undefined ? {} : { status: error.status }),
      attempt,
      ...(delay === undefined ? {} : { durationMs: Math.round(delay) }),
      message: error.message,
    });
  }
}

function networkCode(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  return error instanceof Error ? error.name : 'error';
}

export type { CallTally, ProviderCallPolicy, ProviderRequest, ProviderResponse, SendOptions };
export { BACKOFF_BASE_MS, BACKOFF_MAX_MS, createProviderCallPolicy, errorForStatus };
