/**
 * Turns a whole packed message into an SQS message body (envelope v1): plain JSON when small,
 * compressed + base64 when that is smaller. Keeps a running compression ratio so the packer can aim
 * each message at a tenth of the size limit (ten messages fill one SendMessageBatch, which SQS caps
 * at the same limit in total). Large messages are compressed as they grow (message-builder.ts).
 */
import { ENVELOPE_SOURCE, escapeSqsNoncharacters } from '#core/envelope/envelope-wire.ts';
import type { Segment } from '../spool/spool-segments.ts';
import type { BodyCompression } from './body-compression.ts';
import { BufferPool } from './buffer-pool.ts';
import type { EncodedMessage, PendingMessage } from './message-types.ts';

/** Below this much JSON, compression cannot pay for its base64 and header. */
const COMPRESS_MIN_BYTES = 1024;

interface MessageEncoderOptions {
  host: string;
  stream: string;
  compression: BodyCompression;
}

class MessageEncoder {
  private readonly options: MessageEncoderOptions;
  /** Encoded size / raw size of recent gzip'd messages; starts pessimistic. */
  private ratio = 0.25;

  constructor(options: MessageEncoderOptions) {
    this.options = options;
  }

  /** Raw bytes to pack so the encoded message lands near `encodedTarget`. */
  rawTarget(encodedTarget: number): number {
    return Math.max(1, Math.floor((encodedTarget * 0.85) / this.ratio));
  }

  /** A message of `rawBytes` raw record bytes came out as `encodedBytes` compressed+base64 bytes. */
  observe(rawBytes: number, encodedBytes: number): void {
    this.ratio = this.ratio * 0.7 + (encodedBytes / Math.max(1, rawBytes)) * 0.3;
  }

  /** Encodes `message` whole as envelope number `seq` (re-packed records; tests). */
  async encode(message: PendingMessage, seq: number): Promise<EncodedMessage> {
    const encoded = await encodeBytes(this.envelopeBytes(message, seq), this.options.compression, {
      segment: message.segment,
      seq,
      records: message.lines.count,
    });
    if (encoded.encoding) this.observe(message.rawBytes, encoded.body.length);
    return encoded;
  }

  /** Envelope v1 JSON around the message's prebuilt `lines` items. */
  private envelopeBytes(message: PendingMessage, seq: number): Buffer {
    const { host, stream } = this.options;
    return message.lines.frame(
      envelopeHead(host, stream, seq, message.header),
      envelopeTail(message.lines.b64),
    );
  }
}

/** Envelope v1 up to the opening of `lines` (field order is free in JSON, so `lines` can come last). */
function envelopeHead(host: string, stream: string, seq: number, header: string | undefined): string {
  let head = `{"v":1,"source":"${ENVELOPE_SOURCE}","host":${JSON.stringify(host)},"stream":${JSON.stringify(stream)},"seq":${seq}`;
  if (header !== undefined) head += `,"header":${escapeSqsNoncharacters(JSON.stringify(header))}`;
  return `${head},"lines":[`;
}

/** Closes `lines`, with the indices of its base64 items when there are any. */
function envelopeTail(b64: readonly number[]): string {
  return b64.length > 0 ? `],"b64":[${b64.join(',')}]}` : ']}';
}

/** A whole envelope's JSON as an SQS body: compressed + base64 when that is smaller, else the JSON. */
async function encodeBytes(
  bytes: Buffer,
  compression: BodyCompression,
  meta: { segment: Segment; seq: number; records: number },
): Promise<EncodedMessage> {
  if (bytes.length > COMPRESS_MIN_BYTES) {
    const body = base64Bytes(await compression.whole(bytes));
    const size = body.length + compression.attributeBytes;
    if (size < bytes.length) return { ...meta, body, encoding: compression.encoding, size, attempts: 0 };
    bodyPool.give(body);
  }
  // A copy: `bytes` may be a view of a staging buffer that is reused.
  const body = bodyPool.take(bytes.length);
  bytes.copy(body);
  return { ...meta, body, encoding: undefined, size: bytes.length, attempts: 0 };
}

/**
 * Message bodies: taken when a message is encoded, given back when SQS has it (`releaseBody`).
 * Enough spares for the messages waiting for SQS plus those being encoded.
 */
const bodyPool = new BufferPool(40);

/** base64 of `bytes`, as ASCII bytes in a pooled body (the string in between lives only here). */
function base64Bytes(bytes: Buffer): Buffer {
  const text = bytes.toString('base64');
  const body = bodyPool.take(text.length);
  body.write(text, 0, 'latin1');
  return body;
}

/** The message is acknowledged or re-packed: its body's memory serves the next message. */
function releaseBody(m: EncodedMessage): void {
  bodyPool.give(m.body);
  m.body = RELEASED;
}

const RELEASED = Buffer.alloc(0);

/** Splits a message that came out too big; each half is acknowledged on its own. */
function halves(m: PendingMessage): [PendingMessage, PendingMessage] {
  const n = m.lines.count;
  const mid = Math.ceil(n / 2);
  const part = (from: number, to: number): PendingMessage => ({
    segment: m.segment,
    header: m.header,
    lines: m.lines.slice(from, to),
    rawBytes: Math.ceil((m.rawBytes * (to - from)) / n),
  });
  // The extra half shares the segment's acknowledgement count with the original.
  m.segment.outstanding++;
  return [part(0, mid), part(mid, n)];
}

export { base64Bytes, encodeBytes, envelopeHead, envelopeTail, halves, MessageEncoder, releaseBody };
