/**
 * Messages whose compression is finishing on the thread pool, and the JSON waiting for a
 * compressor: the pack phase waits while either is above its bound, which keeps one core packing
 * and a second compressing without letting memory grow when compression falls behind. Also hands
 * out envelope numbers, in packing order.
 */
import type { EncodedMessage } from './message-types.ts';

/** Packed messages still compressing; with the next one packing, keeps a second core busy. */
const MAX_FINISHING = 1;
/** Staged JSON handed to the compressor and not yet taken: bounds memory when compression falls behind. */
const MAX_COMPRESSOR_BACKLOG_BYTES = 768 * 1024;

interface EncodingsHooks {
  /** A message is encoded (`rawBytes`: its raw record bytes). */
  encoded: (message: EncodedMessage, rawBytes: number) => void;
  /** Something finished or room was made: the shipping loop may go on. */
  progressed: () => void;
}

class EncodingsInFlight {
  private readonly hooks: EncodingsHooks;
  private nextSeq = 0;
  private finishing = 0;
  private backlogBytes = 0;
  private failure: unknown;

  constructor(hooks: EncodingsHooks) {
    this.hooks = hooks;
  }

  /** The next envelope number. */
  seq(): number {
    return this.nextSeq++;
  }

  get count(): number {
    return this.finishing;
  }

  /** Too much is compressing or waiting to: pack no more for now. */
  get full(): boolean {
    return this.finishing > MAX_FINISHING || this.backlogBytes > MAX_COMPRESSOR_BACKLOG_BYTES;
  }

  /** Bytes handed to a compressor (positive) or taken by it (negative). */
  readonly backlogChanged = (delta: number): void => {
    this.backlogBytes += delta;
    if (delta < 0) this.hooks.progressed();
  };

  track(encoded: Promise<EncodedMessage>, rawBytes: number): void {
    this.finishing++;
    encoded.then(
      (e) => {
        this.finishing--;
        this.hooks.encoded(e, rawBytes);
        this.hooks.progressed();
      },
      (error: unknown) => {
        this.finishing--;
        this.failure = error;
        this.hooks.progressed();
      },
    );
  }

  /** A compressor failed: that is fatal (the records stay in the spool for the next start). */
  throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}

export { EncodingsInFlight };
