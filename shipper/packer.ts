/**
 * Groups spooled records into envelope-sized messages: consecutive records of one segment under
 * one header, up to a raw-size target the encoder keeps calibrated. A message never spans a header
 * change (envelope rule) nor a segment (so acknowledging it can free exactly one segment).
 */
import type { Segment } from './spool-segments.ts';

interface PendingMessage {
  segment: Segment;
  header: string | undefined;
  lines: string[];
  /** Indices of `lines` holding base64 of bytes that are not valid UTF-8 (envelope `b64`). */
  b64: number[];
  rawBytes: number;
}

interface PackerOptions {
  targetRawBytes: () => number;
  emit: (message: PendingMessage) => void;
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

  record(segment: Segment, buf: Buffer, start: number, end: number): void {
    if (this.message && this.message.segment !== segment) this.flush();
    if (!this.message) {
      this.message = { segment, header: this.currentHeader, lines: [], b64: [], rawBytes: 0 };
      segment.outstanding++;
    }
    const m = this.message;
    const text = buf.toString('utf8', start, end);
    // U+FFFD marks either a real U+FFFD or bytes that are not UTF-8; only the latter needs base64.
    if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(buf.subarray(start, end))) {
      m.b64.push(m.lines.length);
      m.lines.push(buf.toString('base64', start, end));
    } else {
      m.lines.push(text);
    }
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
    return this.message?.lines.length ?? 0;
  }
}

export type { PendingMessage };
export { Packer };
