/**
 * One envelope being packed, compressed as it grows. Records are staged as JSON bytes in a small
 * buffer; each time it fills, it goes to a compressor on the thread pool, so a message's raw
 * ~1 MB of JSON never sits in memory at once — only its compressed bytes (~100 KB) and one or
 * two staged chunks do. That is what keeps the shipper's RSS flat at full rate.
 *
 * A message that never fills one chunk (low volume, flushed every second) is encoded whole
 * instead, plain or compressed, whichever is smaller. `seq` is fixed when the message starts, so
 * numbers follow arrival order whatever order compression finishes in.
 */
import type { BrotliCompress, Gzip } from 'node:zlib';
import type { Segment } from '../spool/spool-segments.ts';
import type { BodyCompression } from './body-compression.ts';
import { EnvelopeLines } from './envelope-lines.ts';
import { base64Bytes, encodeBytes, envelopeHead, envelopeTail } from './message-encoder.ts';
import type { EncodedMessage, OpenMessage, RecordBytesHint } from './message-types.ts';

/** Staged JSON handed to the compressor at a time (brotli packs small writes poorly). */
const CHUNK_BYTES = 256 * 1024;

interface MessageBuilderOptions {
  host: string;
  stream: string;
  compression: BodyCompression;
  /** Bytes of compressed input written but not yet taken by zlib changed (back-pressure). */
  backlogChanged: (delta: number) => void;
}

class MessageBuilder implements OpenMessage {
  readonly seq: number;
  readonly segment: Segment;
  readonly header: string | undefined;
  private readonly o: MessageBuilderOptions;
  private staged: EnvelopeLines;
  private compressor: Gzip | BrotliCompress | undefined;
  private readonly out: Buffer[] = [];
  private compressed = 0;
  private failed: Error | undefined;
  /** Records in the message, and those before the staged chunk. */
  private records = 0;
  private recordsBeforeStaged = 0;
  private readonly b64: number[] = [];
  rawBytes = 0;

  constructor(seq: number, segment: Segment, header: string | undefined, options: MessageBuilderOptions) {
    this.seq = seq;
    this.segment = segment;
    this.header = header;
    this.o = options;
    this.staged = new EnvelopeLines(CHUNK_BYTES + 1024, this.head().length + 16);
  }

  get count(): number {
    return this.records;
  }

  /** Compressed bytes produced so far, as base64 will count them. */
  get compressedSize(): number {
    return Math.ceil((this.compressed * 4) / 3);
  }

  add(buf: Buffer, start: number, end: number, hint: RecordBytesHint): void {
    this.staged.addBytes(buf, start, end, hint.utf8, hint.noncharacters);
    this.records++;
    this.rawBytes += end - start + 3;
    if (this.staged.size >= CHUNK_BYTES) this.writeStaged(false);
  }

  /** No more records: the encoded message, once compression has caught up. */
  async finish(): Promise<EncodedMessage> {
    if (!this.compressor) return this.encodeWhole();
    this.writeStaged(true);
    const compressor = this.compressor;
    await new Promise<void>((resolve, reject) => {
      if (compressor.readableEnded) resolve();
      compressor.once('end', resolve);
      compressor.once('error', reject);
    });
    if (this.failed) throw this.failed;
    const body = base64Bytes(Buffer.concat(this.out, this.compressed));
    this.out.length = 0;
    return {
      segment: this.segment,
      seq: this.seq,
      body,
      encoding: this.o.compression.encoding,
      size: body.length + this.o.compression.attributeBytes,
      records: this.records,
      attempts: 0,
    };
  }

  /** Hands the staged chunk to the compressor (`last`: with the envelope's tail, and ends it). */
  private writeStaged(last: boolean): void {
    const staged = this.staged;
    for (const i of staged.b64) this.b64.push(i + this.recordsBeforeStaged);
    this.recordsBeforeStaged = this.records;
    if (!this.compressor) {
      this.compressor = this.startCompressor();
      this.compressor.write(Buffer.from(this.head(), 'utf8'));
    }
    const bytes = last ? staged.frame('', this.tail()) : staged.bytes;
    const size = bytes.length;
    this.o.backlogChanged(size);
    this.compressor.write(bytes, () => {
      this.o.backlogChanged(-size);
      staged.release();
    });
    if (last) this.compressor.end();
    else this.staged = new EnvelopeLines(CHUNK_BYTES + 1024, 0, true);
  }

  private startCompressor(): Gzip | BrotliCompress {
    const compressor = this.o.compression.stream();
    compressor.on('data', (chunk: Buffer) => {
      this.out.push(chunk);
      this.compressed += chunk.length;
    });
    compressor.on('error', (error) => {
      this.failed = error;
    });
    return compressor;
  }

  /** Small message: all of it is staged; plain JSON or gzip, whichever SQS will count as smaller. */
  private async encodeWhole(): Promise<EncodedMessage> {
    const staged = this.staged;
    this.b64.push(...staged.b64);
    const bytes = staged.frame(this.head(), this.tail());
    try {
      return await encodeBytes(bytes, this.o.compression, {
        segment: this.segment,
        seq: this.seq,
        records: this.records,
      });
    } finally {
      staged.release();
    }
  }

  private head(): string {
    return envelopeHead(this.o.host, this.o.stream, this.seq, this.header);
  }

  /** Called once every chunk's b64 indices are collected. */
  private tail(): string {
    return envelopeTail(this.b64);
  }
}

export type { MessageBuilderOptions };
export { CHUNK_BYTES, MessageBuilder };
