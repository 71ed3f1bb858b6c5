/**
 * Ships encoded messages with SendMessageBatch: up to ten per call and never more than the size
 * limit per call, a few calls in flight, per-entry results honoured (only acknowledged messages
 * count as sent), and retries with capped exponential backoff for as long as SQS is unreachable.
 * The SDK's own retries are off: this loop owns retrying, so it never gives up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { CONTENT_ENCODING_ATTRIBUTE, ContentEncoding } from '#core/envelope/envelope-wire.ts';
import type { EncodedMessage } from '../message/message-types.ts';
import type { SqsBatchEntry, SqsClient } from './sqs-client.ts';

const MAX_BATCH_ENTRIES = 10;
const BACKOFF_MIN_MS = 200;
const BACKOFF_MAX_MS = 30_000;
/** A message SQS refuses as malformed this often is set aside on disk instead of blocking the spool. */
const MAX_SENDER_FAULTS = 5;

/** The one SQS call the sender needs (SqsClient; tests may pass their own). */
type BatchApi = Pick<SqsClient, 'sendMessageBatch'>;
type BatchResult = Awaited<ReturnType<BatchApi['sendMessageBatch']>>;

interface SqsSenderOptions {
  client: BatchApi;
  queueUrl: string;
  maxMessageBytes: () => number;
  maxInflight: number;
  rejectDir: string;
  onAck: (message: EncodedMessage) => void;
  /** A message too big for the real limit: lower the limit and re-encode its records. */
  onTooBig: (
    message: EncodedMessage,
    records: { header: string | undefined; lines: string[]; b64: number[] },
  ) => void;
  onLimitLearned: (bytes: number) => void;
  onError: (what: string, error: unknown) => void;
}

class SqsSender {
  private readonly o: SqsSenderOptions;
  private readonly queue: EncodedMessage[] = [];
  private inflight = 0;
  private backoffMs = 0;
  private notBefore = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushRequested = false;
  private idleWaiters: Array<() => void> = [];
  requests = 0;

  constructor(options: SqsSenderOptions) {
    this.o = options;
  }

  /** Messages accepted and not yet acknowledged. */
  get pending(): number {
    return this.queue.length + this.inflightMessages;
  }

  private inflightMessages = 0;

  get inflightRequests(): number {
    return this.inflight;
  }

  enqueue(message: EncodedMessage): void {
    this.queue.push(message);
    this.pump();
  }

  /** Send partial batches too (the flush interval elapsed, or we are draining). */
  flush(): void {
    this.flushRequested = true;
    this.pump();
  }

  /** Resolves when something was acknowledged or failed (room may have been made). */
  waitForProgress(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private pump(): void {
    for (let guard = 0; guard < 64 && this.inflight < this.o.maxInflight && this.queue.length > 0; guard++) {
      const wait = this.notBefore - Date.now();
      if (wait > 0) {
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
        return;
      }
      const limit = this.o.maxMessageBytes();
      const batch: EncodedMessage[] = [];
      let total = 0;
      while (batch.length < MAX_BATCH_ENTRIES && this.queue.length > 0) {
        const next = this.queue[0] as EncodedMessage;
        if (total + next.size > limit && batch.length > 0) break;
        this.queue.shift();
        batch.push(next);
        total += next.size;
      }
      const full = batch.length === MAX_BATCH_ENTRIES || this.queue.length > 0;
      if (!full && !this.flushRequested) {
        this.queue.unshift(...batch);
        return;
      }
      if (this.queue.length === 0) this.flushRequested = false;
      void this.send(batch, total);
    }
  }

  private async send(batch: EncodedMessage[], total: number): Promise<void> {
    this.inflight++;
    this.inflightMessages += batch.length;
    this.requests++;
    const retry: EncodedMessage[] = [];
    try {
      const out = await this.o.client.sendMessageBatch(this.o.queueUrl, batch.map(batchEntry));
      this.settleEntries(batch, out, retry);
      // SQS answered, so it is reachable: failed entries go again after a short pause, and only
      // whole-request failures (outage, throttling of the call) escalate the backoff.
      this.backoffMs = 0;
      if (retry.length > 0) this.notBefore = Date.now() + BACKOFF_MIN_MS;
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      if (name === 'BatchRequestTooLong' || /too ?long/i.test(String((error as Error).message))) {
        this.o.onLimitLearned(Math.floor(total * 0.9));
      } else {
        this.o.onError('SendMessageBatch', error);
        this.backOff();
      }
      retry.push(...batch);
    } finally {
      this.inflight--;
      this.inflightMessages -= batch.length;
    }
    if (retry.length > 0) this.queue.unshift(...retry.sort((a, b) => a.seq - b.seq));
    for (const w of this.idleWaiters.splice(0)) w();
    this.pump();
  }

  /** Per-entry results: acknowledged ones are done, failed ones judged, unreported ones retried. */
  private settleEntries(batch: EncodedMessage[], out: BatchResult, retry: EncodedMessage[]): void {
    const byId = new Map(batch.map((m) => [`m${m.seq}`, m]));
    for (const ok of out.Successful ?? []) {
      const m = ok.Id ? byId.get(ok.Id) : undefined;
      if (!m) continue;
      byId.delete(ok.Id as string);
      this.o.onAck(m);
    }
    for (const failed of out.Failed ?? []) {
      const m = failed.Id ? byId.get(failed.Id) : undefined;
      if (!m) continue;
      byId.delete(failed.Id as string);
      this.entryFailed(m, failed.Code ?? '', failed.Message ?? '', failed.SenderFault === true, retry);
    }
    // An entry SQS reported neither way: not acknowledged, so it is sent again.
    retry.push(...byId.values());
  }

  private entryFailed(
    m: EncodedMessage,
    code: string,
    text: string,
    senderFault: boolean,
    retry: EncodedMessage[],
  ) {
    if (senderFault && /shorter than|too ?long|size/i.test(`${code} ${text}`)) {
      this.o.onLimitLearned(Math.floor(m.size * 0.9));
      this.o.onTooBig(m, decodeOwn(m));
      return;
    }
    this.o.onError(`entry ${code}`, new Error(text));
    if (senderFault && ++m.attempts >= MAX_SENDER_FAULTS) {
      // Not ours to judge records, but SQS will never take this body: keep it on disk, loudly.
      mkdirSync(this.o.rejectDir, { recursive: true });
      const file = join(this.o.rejectDir, `seq-${m.seq}-${Date.now()}.body`);
      writeFileSync(file, m.body);
      this.o.onError('message set aside', new Error(`${code}: ${text}; body kept in ${file}`));
      this.o.onAck(m);
      return;
    }
    retry.push(m);
  }

  private backOff(): void {
    this.backoffMs = Math.min(BACKOFF_MAX_MS, Math.max(BACKOFF_MIN_MS, this.backoffMs * 2));
    // Full jitter keeps several shippers from retrying in lockstep after an outage.
    this.notBefore = Date.now() + this.backoffMs / 2 + Math.random() * (this.backoffMs / 2);
  }
}

/** One SendMessageBatch entry: base64 goes in as bytes; a plain JSON body is text to escape. */
function batchEntry(m: EncodedMessage): SqsBatchEntry {
  return {
    Id: `m${m.seq}`,
    MessageBody: m.encoding ? m.body : m.body.toString('utf8'),
    ...(m.encoding
      ? {
          MessageAttributes: {
            [CONTENT_ENCODING_ATTRIBUTE]: { DataType: 'String' as const, StringValue: m.encoding },
          },
        }
      : {}),
  };
}

function decodeOwn(m: EncodedMessage): { header: string | undefined; lines: string[]; b64: number[] } {
  const compressed = m.encoding ? Buffer.from(m.body.toString('latin1'), 'base64') : undefined;
  const json = !compressed
    ? m.body.toString('utf8')
    : (m.encoding === ContentEncoding.br
        ? brotliDecompressSync(compressed)
        : gunzipSync(compressed)
      ).toString('utf8');
  const env = JSON.parse(json) as { header?: string; lines: string[]; b64?: number[] };
  return { header: env.header, lines: env.lines, b64: env.b64 ?? [] };
}

export type { BatchApi, SqsSenderOptions };
export { MAX_BATCH_ENTRIES, SqsSender };
