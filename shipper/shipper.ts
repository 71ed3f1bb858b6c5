/**
 * The shipper's process, in four named phases around the spool:
 * - read: stdin → spool, started first, in the callback that read the bytes; it never waits for SQS;
 * - pack: spool → envelope messages, compressed on the thread pool as they grow;
 * - send: messages → SendMessageBatch, a segment deleted once every message cut from it is acknowledged;
 * - drain: at end of input (EOF or a signal), ship what is left within --drain-timeout-ms, then stop.
 * Reading and shipping meet only on disk. See docs/shipper.md.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ShipperArgs } from './args.ts';
import { bodyCompression } from './message/body-compression.ts';
import { EncodingsInFlight } from './message/encodings-in-flight.ts';
import { EnvelopeLines } from './message/envelope-lines.ts';
import { MessageBuilder } from './message/message-builder.ts';
import { halves, MessageEncoder, releaseBody } from './message/message-encoder.ts';
import type { EncodedMessage } from './message/message-types.ts';
import { Packer } from './message/packer.ts';
import { SpoolReader, type SpoolRecordSink } from './spool/spool-reader.ts';
import { SpoolSegments } from './spool/spool-segments.ts';
import { SpoolWriter } from './spool/spool-writer.ts';
import { StdinSpooler } from './spool/stdin-spooler.ts';
import { createQueueApi, type QueueApi } from './sqs/queue-api.ts';
import { MessageSizeLimit } from './sqs/queue-limit.ts';
import { SqsSender } from './sqs/sqs-sender.ts';
import { describeError, formatStats, type ShipperLog, type ShipperStats } from './stats.ts';
import { Wakeup } from './wakeup.ts';

const READ_AHEAD_BYTES = 256 * 1024;
/** Messages packed and not yet acknowledged before packing waits for SQS. */
const MAX_PENDING_MESSAGES = 12;
/** How long a wait for SQS or the compressor lasts before the loop looks again. */
const PROGRESS_WAIT_MS = 1000;
const DRAIN_POLL_MS = 50;

interface ShipperIo {
  stdinFd: number;
  env: NodeJS.ProcessEnv;
}

interface ReadPhase {
  writer: SpoolWriter;
  stdin: StdinSpooler;
  /** Resolves at end of input: EOF, a read error or a signal. */
  ended: Promise<void>;
}

class Shipper {
  private readonly args: ShipperArgs;
  private readonly log: ShipperLog;
  private readonly stream = randomUUID();
  private readonly host = hostname();
  private readonly stats: ShipperStats = {
    received: 0,
    sent: 0,
    messages: 0,
    requests: 0,
    sqsErrors: 0,
    spooledBytes: 0,
    segments: 0,
    pendingMessages: 0,
    inflightRequests: 0,
  };
  private readonly wakeup = new Wakeup();
  private readonly spool: SpoolSegments;
  /** Bytes an earlier run left in the spool. */
  private readonly leftover: number;
  private readonly input: ReadPhase;
  private readonly client: QueueApi;
  private readonly limit: MessageSizeLimit;
  private readonly compression: ReturnType<typeof bodyCompression>;
  private readonly encoder: MessageEncoder;
  private readonly encodings: EncodingsInFlight;
  private readonly sender: SqsSender;
  private readonly packer: Packer<MessageBuilder>;
  private readonly reader: SpoolReader;
  private readonly sink: SpoolRecordSink;
  /** Set at end of input: the loop stops when all is shipped, or at this time. */
  private drainDeadline: number | undefined;
  private spoolWarned = false;

  constructor(args: ShipperArgs, log: ShipperLog, io: ShipperIo) {
    this.args = args;
    this.log = log;
    this.spool = new SpoolSegments(args.spoolDir);
    this.leftover = this.spool.totalBytes;
    this.input = this.read(io.stdinFd);
    this.client = createQueueApi(args, io.env);
    this.limit = new MessageSizeLimit(args, log);
    this.compression = bodyCompression(args.compression, args.gzipLevel);
    this.encoder = new MessageEncoder({
      host: this.host,
      stream: this.stream,
      compression: this.compression,
    });
    this.sender = this.send();
    this.encodings = new EncodingsInFlight({
      encoded: (e, rawBytes) => {
        if (e.encoding) this.encoder.observe(rawBytes, e.body.length);
        this.sender.enqueue(e);
      },
      progressed: this.wakeup.wake,
    });
    this.packer = this.pack();
    this.reader = new SpoolReader(this.spool);
    this.sink = this.spoolSink();
  }

  /** Runs until input has ended and everything is shipped (or the drain timeout passed). */
  async run(): Promise<void> {
    const { leftover } = this;
    this.input.stdin.start();
    this.log.line(
      'info',
      `started stream=${this.stream} queue=${this.args.queueUrl} spool=${this.args.spoolDir}${leftover > 0 ? ` leftover=${leftover}B` : ''}`,
    );
    this.limit.learnFromQueue(this.client);
    this.spool.onChange = this.wakeup.wake;
    const flushTimer = setInterval(() => this.tick(), this.args.flushIntervalMs);
    const statsMs = this.args.statsIntervalMs;
    const statsTimer = statsMs > 0 ? setInterval(() => this.logStats(), statsMs) : undefined;
    const onSignal = (signal: string): void => {
      this.log.line('info', `${signal}: stopping`);
      this.input.stdin.stop();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
    void this.input.ended.then(() => this.drain());
    try {
      await this.ship();
    } finally {
      clearInterval(flushTimer);
      clearInterval(statsTimer);
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    }
    await this.stop();
  }

  /** Phase read: stdin → spool. */
  private read(stdinFd: number): ReadPhase {
    const { args, log } = this;
    this.spool.onUnlinkError = (path, error) =>
      log.throttled('unlink', 10_000, 'error', `cannot delete ${path}: ${error.message}`);
    const writer = new SpoolWriter(this.spool, {
      segmentBytes: args.segmentBytes,
      maxBytes: args.spoolMaxBytes,
      onRecords: (n) => {
        this.stats.received += n;
      },
      onSyncError: (error) =>
        log.throttled('fsync', 10_000, 'error', `fsync of the spool failed: ${describeError(error)}`),
    });
    let ended!: () => void;
    const endedPromise = new Promise<void>((resolve) => {
      ended = resolve;
    });
    const stdin = new StdinSpooler(stdinFd, writer, {
      stalled: (reason, message) => {
        if (reason === 'full') {
          const why = `spool is at its cap (${args.spoolMaxBytes} bytes): not reading stdin until SQS takes some`;
          log.throttled('full', 10_000, 'error', why);
        } else {
          log.throttled(
            'io',
            10_000,
            'error',
            `cannot write the spool in ${args.spoolDir}: ${message}; retrying`,
          );
        }
      },
      ended: (error) => {
        if (error) log.line('error', `stdin: ${error}`);
        ended();
      },
    });
    return { writer, stdin, ended: endedPromise };
  }

  /** Phase pack: records → messages of about a tenth of the limit, each compressed as it grows. */
  private pack(): Packer<MessageBuilder> {
    const { host, stream, compression, encodings } = this;
    return new Packer<MessageBuilder>({
      rawTarget: () => this.encoder.rawTarget(this.limit.encodedTarget()),
      encodedTarget: () => this.limit.encodedTarget(),
      start: (segment, header) =>
        new MessageBuilder(encodings.seq(), segment, header, {
          host,
          stream,
          compression,
          backlogChanged: encodings.backlogChanged,
        }),
      emit: (m) => encodings.track(m.finish(), m.rawBytes),
    });
  }

  /** Where the spool reader's records go: the packer; a segment is released once fully read. */
  private spoolSink(): SpoolRecordSink {
    return {
      record: this.packer.record.bind(this.packer),
      header: (_s, h) => this.packer.header(h),
      segmentEnd: (s) => {
        this.packer.segmentEnd(s);
        this.spool.release(s);
      },
    };
  }

  /** Phase send: encoded messages → SendMessageBatch; acknowledged ones free their segment. */
  private send(): SqsSender {
    return new SqsSender({
      client: this.client,
      queueUrl: this.args.queueUrl,
      maxMessageBytes: () => this.limit.bytes,
      maxInflight: this.args.maxInflight,
      rejectDir: join(this.args.spoolDir, 'rejected'),
      onAck: (m) => this.acknowledged(m),
      onTooBig: (m, records) => this.repack(m, records),
      onLimitLearned: (bytes) => this.limit.refused(bytes),
      onError: (what, error) => {
        this.stats.sqsErrors++;
        this.log.throttled(
          `sqs:${what}`,
          10_000,
          'warn',
          `${what} failed (will retry): ${describeError(error)}`,
        );
      },
    });
  }

  private acknowledged(m: EncodedMessage): void {
    this.stats.sent += m.records;
    this.stats.messages++;
    m.segment.outstanding--;
    this.spool.release(m.segment);
    releaseBody(m);
  }

  /** Rare (the queue's limit is lower than we knew): the records go again, in two messages. */
  private repack(
    m: EncodedMessage,
    records: { header: string | undefined; lines: string[]; b64: number[] },
  ): void {
    releaseBody(m);
    const whole = {
      segment: m.segment,
      header: records.header,
      lines: EnvelopeLines.fromText(records.lines, records.b64),
      rawBytes: m.size * 4,
    };
    const parts = whole.lines.count > 1 ? halves(whole) : [whole];
    if (parts.length > 1) whole.lines.release();
    for (const part of parts) {
      const encoded = this.encoder.encode(part, this.encodings.seq());
      const release = (): void => part.lines.release();
      encoded.then(release, release);
      this.encodings.track(encoded, part.rawBytes);
    }
  }

  /**
   * The shipping loop: bounded read-ahead, in-order encoding, batching in the sender. It yields
   * after every chunk so stdin's callbacks (and timers) run between them.
   */
  private async ship(): Promise<void> {
    const { sender, encodings, wakeup } = this;
    for (;;) {
      const draining = this.drainDeadline !== undefined;
      if (draining && Date.now() >= (this.drainDeadline as number)) return;
      encodings.throwIfFailed();
      if (draining && this.idle() && this.spool.count === 0) return;
      if (sender.pending >= MAX_PENDING_MESSAGES || encodings.full) {
        await Promise.race([sender.waitForProgress(PROGRESS_WAIT_MS), wakeup.sleep(PROGRESS_WAIT_MS)]);
      } else if (this.reader.read(READ_AHEAD_BYTES, this.sink) > 0) {
        await nextTurn();
      } else if (draining) {
        this.packer.flush();
        sender.flush();
        await Promise.race([wakeup.sleep(DRAIN_POLL_MS), sender.waitForProgress(DRAIN_POLL_MS)]);
      } else {
        await wakeup.sleep(this.args.flushIntervalMs);
      }
    }
  }

  private idle(): boolean {
    return this.encodings.count === 0 && this.sender.pending === 0 && this.packer.pendingRecords === 0;
  }

  /** Phase drain: input has ended; ship what is left, for at most --drain-timeout-ms. */
  private drain(): void {
    this.drainDeadline = Date.now() + this.args.drainTimeoutMs;
    this.wakeup.wake();
  }

  /** After the loop: stop sending and reading, let the spool settle, report what is left. */
  private async stop(): Promise<void> {
    this.sender.stop();
    this.reader.close();
    this.input.stdin.stop();
    await Promise.all([this.input.writer.settled(), this.spool.settled()]);
    this.logStats();
    if (this.spool.count > 0)
      this.log.line(
        'info',
        `exiting with ${this.spool.totalBytes} bytes left in the spool for the next start`,
      );
    this.client.destroy();
  }

  /** Every flush interval: close the open message, send partial batches, fsync, spool warnings. */
  private tick(): void {
    this.packer.flush();
    this.sender.flush();
    this.input.writer.sync();
    this.wakeup.wake();
    const { spoolWarnBytes, spoolMaxBytes } = this.args;
    const bytes = this.spool.totalBytes;
    if (bytes > spoolWarnBytes) {
      const text = `spool holds ${bytes} bytes (warning at ${spoolWarnBytes}, cap ${spoolMaxBytes}): is SQS reachable?`;
      this.log.throttled('spool-warn', 60_000, 'warn', text);
      this.spoolWarned = true;
    } else if (this.spoolWarned) {
      this.spoolWarned = false;
      this.log.line('info', `spool back to ${bytes} bytes`);
    }
  }

  private logStats(): void {
    const { stats, spool, sender } = this;
    stats.spooledBytes = spool.totalBytes;
    stats.segments = spool.count;
    stats.requests = sender.requests;
    stats.pendingMessages = sender.pending;
    stats.inflightRequests = sender.inflightRequests;
    this.log.line('info', formatStats(stats));
  }
}

export type { ShipperIo };
export { Shipper };
