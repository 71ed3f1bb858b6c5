/**
 * Handler faults for the fault matrix: a crash mid-batch, and batches delivered twice (after the
 * first finished, or both at once with their own receipt handles), in shuffled order.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { SqsHandler } from '#sandbox/sqs-event-source.ts';

function failures(response: unknown): Set<string> {
  const list = (response as SQSBatchResponse | undefined)?.batchItemFailures;
  return new Set(Array.isArray(list) ? list.map((f) => f.itemIdentifier) : []);
}

interface WrapOptions {
  /** Crash (throw) after handling the first half of these invocation numbers (1-based). */
  crashOn: ReadonlySet<number>;
  /**
   * Deliver these invocations twice in shuffled order: `sequential` (the second delivery after
   * the first finished: an acknowledgement lost) or `concurrent` (both at once, the second with
   * its own receipt handle, as SQS's at-least-once delivery can do).
   */
  duplicateOn: (invocation: number) => 'sequential' | 'concurrent' | undefined;
  random: () => number;
  onAcked?: (event: SQSEvent, failed: Set<string>) => void;
}

/** `current()` is read at each call, so a reload (a fresh cold start) takes effect at once. */
function wrapHandler(current: () => SqsHandler, options: WrapOptions): SqsHandler {
  let invocations = 0;
  return async (event, context) => {
    invocations += 1;
    const n = invocations;
    const handler = current();
    if (options.crashOn.has(n) && event.Records.length > 0) {
      // A crash mid-batch: the first half took effect, then the runtime died (no response, so
      // every message of the batch returns to the queue).
      const half = event.Records.slice(0, Math.ceil(event.Records.length / 2));
      await handler({ Records: half }, context);
      throw new Error(`injected crash in invocation ${n}`);
    }
    let response: unknown;
    const duplicate = options.duplicateOn(n);
    if (duplicate) {
      const shuffled = [...event.Records].sort(() => options.random() - 0.5);
      const second = [...shuffled]
        .reverse()
        .map((r) =>
          duplicate === 'concurrent' ? { ...r, receiptHandle: `${r.receiptHandle}-duplicate` } : r,
        );
      const [a, b] =
        duplicate === 'concurrent'
          ? await Promise.allSettled([
              handler({ Records: shuffled }, context),
              handler({ Records: second }, context),
            ])
          : [
              await Promise.allSettled([handler({ Records: shuffled }, context)]).then((x) => x[0]!),
              await Promise.allSettled([handler({ Records: second }, context)]).then((x) => x[0]!),
            ];
      if (a.status === 'rejected') throw a.reason;
      if (b.status === 'rejected') throw b.reason;
      const failed = new Set([...failures(a.value), ...failures(b.value)]);
      response = { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
    } else {
      response = await handler(event, context);
    }
    options.onAcked?.(event, failures(response));
    return response;
  };
}

export type { WrapOptions };
export { wrapHandler };
