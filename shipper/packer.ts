/**
 * Groups spooled records into envelope-sized messages: consecutive records of one segment under
 * one header, up to a raw-size target the encoder keeps calibrated. A message never spans a header
 * change (envelope rule) nor a segment (so acknowledging it can free exactly one segment).
 */
import { EnvelopeLines } from './envelope-lines.ts';
import type { Segment } from './spool-segments.ts';

interface PendingMessage {
  segment: Segment;
  header: string | undefined;
  lines: EnvelopeLines;
  rawBytes: number;
}

interface PackerOptions {
  targetRawBytes: () => number;
  /** Room to leave before the items for the envelope head (MessageEncoder.headRoom). */
  headRoom: (header: string | undefined) => number;
  emit: (message: PendingMessage) => void;
}

/** What the reader knows about the bytes a record comes from (checked once per read). */
interface RecordBytesHint {
  utf8: boolean;
  noncharacters: boolean;
}

class Packer {
  private readonly options: PackerOptions;
  private currentHeader: string | undefined;
  private message: PendingMessage | undefined;

  constructor(options: PackerOptions) {
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
      const target = this.options.targetRawBytes();
      this.message = {
        segment,
        header: this.currentHeader,
        lines: new EnvelopeLines(Math.ceil(target * 1.15) + 4096, this.options.headRoom(this.currentHeader)),
        rawBytes: 0,
      };
      segment.outstanding++;
    }
    const m = this.message;
    m.lines.addBytes(buf, start, end, hint.utf8, hint.noncharacters);
    m.rawBytes += end - start + 3;
    if (m.rawBytes >= this.options.targetRawBytes()) this.flush();
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
    return this.message?.lines.count ?? 0;
  }
}

export type { PendingMessage, RecordBytesHint };
export { Packer };
