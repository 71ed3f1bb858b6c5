/** The slice of a structured logger (Powertools Logger fits) the cloud functions use. */
interface Log {
  info(message: string, extra?: Record<string, unknown>): void;
  warn(message: string, extra?: Record<string, unknown>): void;
  error(message: string, extra?: Record<string, unknown>): void;
}

const silentLog: Log = { info() {}, warn() {}, error() {} };

export type { Log };
export { silentLog };
