/**
 * Groups spooled records into envelope-sized messages: consecutive records of one segment under
 * one header, up to a raw-size target the encoder keeps calibrated. A message never spans a header
 * change (envelope rule) nor a segment (so acknowledging it can free exactly one segment).
 */

import type { Segment } from '../spool/spool-segments.ts';
import type { OpenMessage, RecordBytesHint } from './message-types.ts';

interface PackerOptions<M extends OpenMessage> {
  /** Raw record bytes per message that should encode to about `encodedTarget` (calibrated). */
  rawTarget: () => number;
  /** Encoded bytes per message to aim at (a tenth of a SendMessageBatch call). */
  encodedTarget: () => number;
  /** A new message with the next envelope number. */
  start: (segment: Segment, header: string | undefined) => M;
  emit: (message: M) => void;
}

class Packer<M extends OpenMessage> {
  private readonly options: PackerOptions<M>;
  private currentHeader: string | undefined;
  private message: M | undefined;

  constructor(options: PackerOptions<M>) {
    this.options = options;
  }

  header(header: string): void {
    if (header === this.currentHeader) return;
    this.flush();
    this.currentHeader = header;
  }

  record(segment: Segment, buf: Buffer, start: number, end: number, hint: RecordBytesHint): void {
    if (this.message && this.message.segment !== segment) this.flush();
    if (!this.message) {
      this.message = this.options.start(segment, this.currentHeader);
      segment.outstanding++;
    }
    const m = this.message;
    m.add(buf, start, end, hint);
    // The compressed size catches data that compresses far worse than the calibration says.
    if (m.rawBytes >= this.options.rawTarget() || m.compressedSize >= this.options.encodedTarget() * 0.8)
      this.flush();
  }

  segmentEnd(segment: Segment): void {
    if (this.message?.segment === segment) this.flush();
  }

  /** Closes the current message (flush interval, header change, segment end, size target). */
  flush(): void {
    const m = this.message;
    this.message = undefined;
    if (m) this.options.emit(m);
  }

  get pendingRecords(): number {
    return this.message?.count ?? 0;
  }
}

export { Packer };
