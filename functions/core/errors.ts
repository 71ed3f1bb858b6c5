/**
 * One error hierarchy for the whole product. `retryable` tells callers whether trying the same
 * thing again later can succeed (a provider outage) or not (a bad record).
 */
class BounceHandlerError extends Error {
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BounceHandlerError';
    this.retryable = retryable;
  }
}

/** The configuration file or the environment is wrong; `path` names the key (e.g. `providers[1].url`). */
class ConfigError extends BounceHandlerError {
  readonly path: string;

  constructor(path: string, message: string, options?: ErrorOptions) {
    super(path ? `${path}: ${message}` : message, false, options);
    this.name = 'ConfigError';
    this.path = path;
  }
}

class MalformedInputError extends BounceHandlerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, false, options);
    this.name = 'MalformedInputError';
  }
}

const ProviderErrorKind = {
  /** 5xx, 429, timeouts, connection errors: try again later. */
  transient: 'transient',
  /** Credentials refused: our misconfiguration. Retryable so the action stays pending until fixed. */
  auth: 'auth',
  /** The request itself is wrong (other 4xx): retrying the same request cannot help. */
  permanent: 'permanent',
} as const;
type ProviderErrorKind = (typeof ProviderErrorKind)[keyof typeof ProviderErrorKind];

/** A provider call failed. Messages never contain credentials. */
class ProviderError extends BounceHandlerError {
  readonly provider: string;
  readonly kind: ProviderErrorKind;
  readonly status: number | undefined;
  /** Milliseconds the provider asked us to wait (Retry-After), when it said so. */
  readonly retryAfterMs: number | undefined;

  constructor(
    provider: string,
    kind: ProviderErrorKind,
    message: string,
    details: { status?: number; retryAfterMs?: number } = {},
    options?: ErrorOptions,
  ) {
    super(`${provider}: ${message}`, kind !== ProviderErrorKind.permanent, options);
    this.name = 'ProviderError';
    this.provider = provider;
    this.kind = kind;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
  }
}

class StoreError extends BounceHandlerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, true, options);
    this.name = 'StoreError';
  }
}

export { BounceHandlerError, ConfigError, MalformedInputError, ProviderError, ProviderErrorKind, StoreError };
