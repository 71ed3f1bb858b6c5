/**
 * Runs several encodings at once (gzip on the thread pool uses the cores the event loop does not)
 * while keeping `seq` in arrival order: results are handed on in the order the messages were
 * packed. A message that comes out over the size limit is split in halves; the encodings started
 * after it are abandoned and started again with the following numbers, so a stream's records
 * still read in order when its envelopes are sorted by `seq`.
 */
import { type EncodedMessage, halves, type MessageEncoder } from './message-encoder.ts';
import type { PendingMessage } from './packer.ts';

interface EncodeQueueOptions {
  encoder: MessageEncoder;
  /** Encodings in flight at once. */
  concurrency: number;
  maxBytes: () => number;
  emit: (message: EncodedMessage) => void;
  /** Something left the queue (room for more, or everything is done). */
  progressed: () => void;
}

interface Running {
  message: PendingMessage;
  seq: number;
  result: Promise<EncodedMessage>;
}

class EncodeQueue {
  private readonly o: EncodeQueueOptions;
  private readonly waiting: PendingMessage[] = [];
  private running: Running[] = [];
  private nextSeq = 0;
  private delivering = false;

  constructor(options: EncodeQueueOptions) {
    this.o = options;
  }

  /** Messages accepted and not yet handed on. */
  get size(): number {
    return this.waiting.length + this.running.length;
  }

  push(message: PendingMessage): void {
    this.waiting.push(message);
    this.pump();
  }

  /** Ahead of everything waiting (records SQS refused as too large, re-packed). */
  pushFront(message: PendingMessage): void {
    this.waiting.unshift(message);
    this.pump();
  }

  private pump(): void {
    while (this.running.length < this.o.concurrency && this.waiting.length > 0) {
      const message = this.waiting.shift() as PendingMessage;
      const seq = this.nextSeq++;
      this.running.push({ message, seq, result: this.o.encoder.encode(message, seq) });
    }
    if (!this.delivering && this.running.length > 0) void this.deliver();
  }

  private async deliver(): Promise<void> {
    this.delivering = true;
    try {
      while (this.running.length > 0) {
        const head = this.running[0] as Running;
        const encoded = await head.result;
        this.running.shift();
        if (encoded.size > this.o.maxBytes() && head.message.lines.count > 1) {
          // Later encodings carry later numbers than the halves will: drop and redo them.
          const later = this.running.map((r) => r.message);
          this.running = [];
          this.nextSeq = head.seq;
          this.waiting.unshift(...halves(head.message), ...later);
        } else {
          this.o.emit(encoded);
        }
        head.message.lines.release();
        this.pump();
        this.o.progressed();
      }
    } finally {
      this.delivering = false;
    }
  }
}

export { EncodeQueue };
