/**
 * The size limit messages are packed for: --max-message-bytes (256 KiB by default) until the
 * queue's MaximumMessageSize is read, and lowered when SQS refuses a message as too large.
 */
import type { ShipperArgs } from '../args.ts';
import { describeError, type ShipperLog } from '../stats.ts';
import type { QueueApi } from './queue-api.ts';

/** The lowest limit a refusal can take us to. */
const MIN_LEARNED_BYTES = 8 * 1024;

class MessageSizeLimit {
  private readonly args: ShipperArgs;
  private readonly log: ShipperLog;
  bytes: number;

  constructor(args: ShipperArgs, log: ShipperLog) {
    this.args = args;
    this.log = log;
    this.bytes = args.maxMessageBytes;
  }

  /** Encoded bytes per message to aim at: a tenth, so ten messages fill one SendMessageBatch. */
  encodedTarget(): number {
    return Math.floor(this.bytes / 10) - 512;
  }

  /** Reads the queue's limit in the background; an explicit --max-message-bytes stays a ceiling. */
  learnFromQueue(client: QueueApi): void {
    void queueMaximumMessageSize(client, this.args, this.log).then((bytes) => {
      if (bytes !== undefined)
        this.bytes = this.args.maxMessageBytesExplicit ? Math.min(bytes, this.bytes) : bytes;
    });
  }

  /** SQS refused `bytes` as too large. */
  refused(bytes: number): void {
    if (bytes >= this.bytes) return;
    this.bytes = Math.max(MIN_LEARNED_BYTES, bytes);
    this.log.line('warn', `SQS refused a message as too large: max message bytes now ${this.bytes}`);
  }
}

/** The queue's MaximumMessageSize, if this identity may read it (a SendMessage-only one may not). */
async function queueMaximumMessageSize(
  client: QueueApi,
  args: ShipperArgs,
  log: ShipperLog,
  attempt = 1,
): Promise<number | undefined> {
  try {
    const attributes = await client.getQueueAttributes(
      args.queueUrl,
      ['MaximumMessageSize'],
      AbortSignal.timeout(5_000),
    );
    const bytes = Number(attributes.MaximumMessageSize);
    if (!Number.isSafeInteger(bytes) || bytes <= 0) return undefined;
    log.line('info', `queue MaximumMessageSize=${bytes}`);
    return bytes;
  } catch (error) {
    const denied = /denied|unauthori[sz]ed|forbidden/i.test(describeError(error));
    if (!denied && attempt < 12) {
      // SQS may be unreachable at start: try again soon, then less often (12 attempts, ~10 min),
      // so a backlog left by an outage is drained in full-size messages once SQS is back.
      await new Promise((r) => setTimeout(r, Math.min(60_000, 500 * 2 ** attempt)).unref());
      return queueMaximumMessageSize(client, args, log, attempt + 1);
    }
    log.line(
      'info',
      `cannot read the queue's MaximumMessageSize (${describeError(error)}); using ${args.maxMessageBytes}`,
    );
    return undefined;
  }
}

export { MessageSizeLimit };
