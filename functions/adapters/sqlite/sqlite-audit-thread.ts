/**
 * The audit thread, seen from the main thread: `process` hands it each batch's decision entries
 * (numbers in a transferred array, subjects beside them) and goes on; before the state commits,
 * `sync` waits until the thread has made them durable. The main thread then names the batch in
 * `audit_batches` in the same transaction as the decisions (sqlite-decision-file.ts), so a crash
 * anywhere leaves either both or neither visible. Measured in docs/benchmarks.md ("The audit
 * thread"): the state run's main thread no longer pays ~3 µs of SQLite per record for its audit.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { StoreError } from '#core/errors.ts';
import type { AuditThreadMessage } from './sqlite-decision-file.ts';

/** How long a sync may take before the run fails (a disk that stopped answering). */
const SYNC_TIMEOUT_MS = 120_000;

/**
 * The built worker (dist/cli, beside the bundle's entry or its chunks), else the TypeScript source
 * loaded through tsx (the bin's fallback, tests).
 */
function startWorker(workerData: object, transfer: MessagePort[]): Worker {
  const options = { workerData, transferList: transfer, resourceLimits: { maxYoungGenerationSizeMb: 2 } };
  if (import.meta.url.endsWith('.js')) {
    for (const candidate of ['./audit-thread-worker.js', '../audit-thread-worker.js']) {
      const url = new URL(candidate, import.meta.url);
      if (existsSync(url)) return new Worker(url, options);
    }
  }
  const source = new URL('./audit-thread-worker.ts', import.meta.url).href;
  // A failure to load answers every request with it (the built worker reports its own).
  const boot = `import(${JSON.stringify(tsxEsmApi())})
    .then((m) => m.tsImport(${JSON.stringify(source)}, ${JSON.stringify(source)}))
    .catch((error) => {
      const { workerData } = require('node:worker_threads');
      const answered = new Int32Array(workerData.answers);
      workerData.errors.postMessage(String(error?.message ?? error));
      Atomics.store(answered, 1, 1);
      Atomics.store(answered, 0, 0x7fffffff);
      Atomics.notify(answered, 0);
    })`;
  return new Worker(boot, { ...options, eval: true });
}

/** tsx's ESM API as a file URL (its CommonJS build cannot register hooks from an eval'd worker). */
function tsxEsmApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const exports = (
    require('tsx/package.json') as { exports: Record<string, { import: { default: string } }> }
  ).exports;
  return new URL(exports['./esm/api']!.import.default, pathToFileURL(manifest)).href;
}

class AuditThread {
  readonly #worker: Worker;
  readonly #answers = new Int32Array(new SharedArrayBuffer(8));
  readonly #errors: MessagePort;
  #ticket = 0;
  /** Set once the thread reported a failure: it is then only stopped, not asked again. */
  #failed = false;

  readonly #path: string;

  constructor(decisionFile: string) {
    this.#path = decisionFile;
    const { port1, port2 } = new MessageChannel();
    this.#errors = port1;
    const data = { path: decisionFile, answers: this.#answers.buffer, errors: port2 };
    this.#worker = startWorker(data, [port2]);
    // Neither keeps the process alive: the store closes the thread (close) before the run ends.
    this.#worker.unref();
    port1.unref();
  }

  /** Hands over one batch of decision rows; the array's memory moves to the thread. */
  append(
    batch: number,
    afterSeq: number,
    rows: { nums: Float64Array; text: string; lengths: Int32Array },
  ): void {
    const message: AuditThreadMessage = { kind: 'rows', batch, afterSeq, ...rows };
    const { nums, lengths } = rows;
    this.#worker.postMessage(message, [nums.buffer as ArrayBuffer, lengths.buffer as ArrayBuffer]);
  }

  /** Blocks until every row handed over so far is durable, and `batch` recorded as synced. */
  sync(batch: number): void {
    this.#request({ kind: 'sync', batch, ticket: ++this.#ticket });
  }

  async close(): Promise<void> {
    try {
      if (!this.#failed) this.#request({ kind: 'close', ticket: ++this.#ticket });
    } finally {
      await this.#worker.terminate();
      this.#errors.close();
    }
  }

  #request(message: AuditThreadMessage & { ticket: number }): void {
    this.#worker.postMessage(message);
    const deadline = Date.now() + SYNC_TIMEOUT_MS;
    for (;;) {
      const seen = Atomics.load(this.#answers, 0);
      if (seen >= message.ticket) break;
      if (Date.now() > deadline)
        throw new StoreError(
          `cannot write state ${this.#path} (the audit's decision file): no answer in ${SYNC_TIMEOUT_MS} ms`,
        );
      Atomics.wait(this.#answers, 0, seen, 200);
    }
    if (Atomics.load(this.#answers, 1) !== 0) {
      this.#failed = true;
      const reason = receiveMessageOnPort(this.#errors)?.message as string | undefined;
      throw new StoreError(
        `cannot write state ${this.#path} (the audit's decision file): ${reason ?? 'the audit thread stopped'}`,
      );
    }
  }
}

export { AuditThread };
