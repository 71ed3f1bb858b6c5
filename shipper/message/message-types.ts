/**
 * The shapes that pass between the shipper's message parts: the spool reader hands records to the
 * packer, the packer fills open messages (message-builder.ts), the encoder turns them into SQS
 * bodies, the sender ships those. Declared here, in one module that imports no part, so the parts
 * import each other's types without a cycle.
 */
import type { ContentEncoding } from '#core/envelope/envelope-wire.ts';
import type { Segment } from '../spool/spool-segments.ts';
import type { EnvelopeLines } from './envelope-lines.ts';

/** What the reader knows about the bytes a record comes from (checked once per read). */
interface RecordBytesHint {
  utf8: boolean;
  noncharacters: boolean;
}

/** A message being packed, as the packer sees it (MessageBuilder). */
interface OpenMessage {
  readonly segment: Segment;
  /** Records added so far. */
  readonly count: number;
  /** Raw record bytes added so far (what the encoder's ratio is calibrated on). */
  readonly rawBytes: number;
  /** Compressed bytes produced so far, as base64 will count them. */
  readonly compressedSize: number;
  add(buf: Buffer, start: number, end: number, hint: RecordBytesHint): void;
}

/** A message packed whole (records re-packed after SQS refused them as too large; tests). */
interface PendingMessage {
  segment: Segment;
  header: string | undefined;
  lines: EnvelopeLines;
  rawBytes: number;
}

interface EncodedMessage {
  segment: Segment;
  seq: number;
  /**
   * The SQS body as bytes: base64 text when `encoding` is set, else the envelope's JSON text. Kept
   * as a Buffer, outside V8's heap: ~100 KB strings waiting for SQS were promoted to the old
   * generation and made up most of the shipper's heap.
   */
  body: Buffer;
  /** The `ContentEncoding` attribute to send, when the body is compressed. */
  encoding: ContentEncoding | undefined;
  /** Size as SQS counts it (body plus attributes). */
  size: number;
  records: number;
  attempts: number;
}

export type { EncodedMessage, OpenMessage, PendingMessage, RecordBytesHint };
