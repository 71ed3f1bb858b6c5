/**
 * Turns a packed message into an SQS message body (envelope v1): plain JSON when small, gzip +
 * base64 when that is smaller. Keeps a running compression ratio so the packer can aim each
 * message at a tenth of the size limit (ten messages fill one SendMessageBatch, which SQS caps at
 * the same limit in total). Compression runs on libuv's thread pool, off the event loop; several
 * messages may be compressing at once (EncodeQueue keeps their order).
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  CONTENT_ENCODING_ATTRIBUTE,
  ContentEncoding,
  type Envelope,
  escapeSqsNoncharacters,
} from '#core/envelope.ts';
import type { PendingMessage } from './packer.ts';
import type { Segment } from './spool-segments.ts';

const gzipAsync = promisify(gzip);

/** Below this much JSON, gzip cannot pay for its base64 and header. */
const GZIP_MIN_BYTES = 1024;
/** SQS counts attribute name, type and value toward the message size. */
const GZIP_ATTRIBUTE_BYTES =
  CONTENT_ENCODING_ATTRIBUTE.length + 'String'.length + ContentEncoding.gzip.length;

interface EncodedMessage {
  segment: Segment;
  seq: number;
  body: string;
  gzip: boolean;
  /** Size as SQS counts it (body plus attributes). */
  size: number;
  records: number;
  attempts: number;
}

interface MessageEncoderOptions {
  host: string;
  stream: string;
  gzipLevel: number;
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

  /** Encodes `message` as envelope number `seq`; the caller checks the size against the limit. */
  async encode(message: PendingMessage, seq: number): Promise<EncodedMessage> {
    const envelope: Envelope = {
      v: 1,
      source: 'pmta-acct',
      host: this.options.host,
      stream: this.options.stream,
      seq,
      ...(message.header === undefined ? {} : { header: message.header }),
      lines: message.lines,
      ...(message.b64.length > 0 ? { b64: message.b64 } : {}),
    };
    let json = JSON.stringify(envelope);
    let bytes = Buffer.from(json, 'utf8');
    // Pure ASCII (the usual case) cannot hold U+FFFE/U+FFFF: skip the scan for them.
    if (bytes.length !== json.length) {
      const escaped = escapeSqsNoncharacters(json);
      if (escaped !== json) {
        json = escaped;
        bytes = Buffer.from(json, 'utf8');
      }
    }
    let body = json;
    let size = bytes.length;
    let gzipped = false;
    if (bytes.length > GZIP_MIN_BYTES) {
      const z = (await gzipAsync(bytes, { level: this.options.gzipLevel, memLevel: 9 })).toString('base64');
      this.ratio = this.ratio * 0.7 + (z.length / Math.max(1, message.rawBytes)) * 0.3;
      if (z.length + GZIP_ATTRIBUTE_BYTES < bytes.length) {
        body = z;
        size = z.length + GZIP_ATTRIBUTE_BYTES;
        gzipped = true;
      }
    }
    return {
      segment: message.segment,
      seq,
      body,
      gzip: gzipped,
      size,
      records: message.lines.length,
      attempts: 0,
    };
  }
}

/** Splits a message that came out too big; each half is acknowledged on its own. */
function halves(m: PendingMessage): [PendingMessage, PendingMessage] {
  const mid = Math.ceil(m.lines.length / 2);
  const part = (from: number, to: number): PendingMessage => ({
    segment: m.segment,
    header: m.header,
    lines: m.lines.slice(from, to),
    b64: m.b64.filter((i) => i >= from && i < to).map((i) => i - from),
    rawBytes: Math.ceil((m.rawBytes * (to - from)) / m.lines.length),
  });
  // The extra half shares the segment's acknowledgement count with the original.
  m.segment.outstanding++;
  return [part(0, mid), part(mid, m.lines.length)];
}

export type { EncodedMessage };
export { GZIP_ATTRIBUTE_BYTES, halves, MessageEncoder };
