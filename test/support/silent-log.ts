/** A Log port that says nothing, for tests of the function orchestration. */
import type { Log } from '#core/ports.ts';

const silentLog: Log = { info() {}, warn() {}, error() {} };

export { silentLog };
