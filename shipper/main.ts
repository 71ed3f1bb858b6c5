/**
 * pmta-shipper: PowerMTA accounting pipe → durable spool → SQS. Wiring and lifecycle only; each
 * part lives in its own file. Reading never waits for SQS: stdin goes straight to the spool in the
 * callback that read it, and a separate loop ships the spool, so the two only meet on disk.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { parseShipperArgs, type ShipperArgs, USAGE } from './args.ts';
import { bodyCompression } from './message/body-compression.ts';
import { EnvelopeLines } from './message/envelope-lines.ts';
import { MessageBuilder } from './message/message-builder.ts';
import { type EncodedMessage, halves, MessageEncoder, releaseBody } from './message/message-encoder.ts';
import { Packer } from './message/packer.ts';
import { SpoolReader } from './spool/spool-reader.ts';
import { SpoolSegments } from './spool/spool-segments.ts';
import { SpoolWriter } from './spool/spool-writer.ts';
import { StdinSpooler } from './spool/stdin-spooler.ts';
import { createQueueApi, type QueueApi } from './sqs/queue-api.ts';
import { SqsSender } from './sqs/sqs-sender.ts';
import { createShipperLog, formatStats, type ShipperLog, type ShipperStats } from './stats.ts';

const READ_AHEAD_BYTES = 256 * 1024;
/** Packed messages still compressing; with the next one packing, keeps a second core busy. */
const MAX_FINISHING = 1;
/** Staged JSON handed to the compressor and not yet taken: bounds memory when compression falls behind. */
const MAX_COMPRESSOR_BACKLOG_BYTES = 768 * 1024;
const EXIT = { ok: 0, usage: 2, fatal: 1 } as const;

interface MainDeps {
  stdinFd?: number;
  env?: NodeJS.ProcessEnv;
}

async function main(argv: string[], deps: MainDeps = {}): Promise<number> {
  const parsed = parseShipperArgs(argv, deps.env ?? process.env);
  if (!parsed.ok) {
    if ('help' in parsed) {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    process.stderr.write(`pmta-shipper: ${parsed.error}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const log = createShipperLog(parsed.args.logFile);
  try {
    return await run(parsed.args, log, deps.stdinFd ?? 0, deps.env ?? process.env);
  } catch (error) {
    log.line('error', `fatal: ${(error as Error).stack ?? String(error)}`);
    return EXIT.fatal;
  }
}

async function run(
  args: ShipperArgs,
  log: ShipperLog,
  stdinFd: number,
  env: NodeJS.ProcessEnv,
): Promise<number> {
  const stream = randomUUID();
  const stats: ShipperStats = {
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
  const spool = new SpoolSegments(args.spoolDir);
  const leftover = spool.totalBytes;

  // 1. stdin → spool, started before anything that could be slow.
  let inputDone = false;
  spool.onUnlinkError = (path, error) =>
    log.throttled('unlink', 10_000, 'error', `cannot delete ${path}: ${error.message}`);
  const writer = new SpoolWriter(spool, {
    segmentBytes: args.segmentBytes,
    maxBytes: args.spoolMaxBytes,
    onRecords: (n) => {
      stats.received += n;
    },
    onSyncError: (error) =>
      log.throttled('fsync', 10_000, 'error', `fsync of the spool failed: ${describe(error)}`),
  });
  let stdin: StdinSpooler | undefined;
  const inputEnded = new Promise<void>((resolve) => {
    stdin = new StdinSpooler(stdinFd, writer, {
      stalled: (reason, message) => {
        if (reason === 'full') {
          log.throttled(
            'full',
            10_000,
            'error',
            `spool is at its cap (${args.spoolMaxBytes} bytes): not reading stdin until SQS takes some`,
          );
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
        resolve();
      },
    });
    stdin.start();
  }).then(() => {
    inputDone = true;
  });
  const stopReading = (): void => stdin?.stop();
  log.line(
    'info',
    `started stream=${stream} queue=${args.queueUrl} spool=${args.spoolDir}${leftover > 0 ? ` leftover=${leftover}B` : ''}`,
  );

  // 2. spool → SQS.
  const client: QueueApi = createQueueApi(args, env);
  let maxMessageBytes = args.maxMessageBytes;
  void learnQueueLimit(client, args, log).then((bytes) => {
    if (bytes !== undefined)
      maxMessageBytes = args.maxMessageBytesExplicit ? Math.min(bytes, maxMessageBytes) : bytes;
  });
  const host = hostname();
  const compression = bodyCompression(args.compression, args.gzipLevel);
  const encoder = new MessageEncoder({ host, stream, compression });
  const sender = new SqsSender({
    client,
    queueUrl: args.queueUrl,
    maxMessageBytes: () => maxMessageBytes,
    maxInflight: args.maxInflight,
    rejectDir: join(args.spoolDir, 'rejected'),
    onAck: (m: EncodedMessage) => {
      stats.sent += m.records;
      stats.messages++;
      m.segment.outstanding--;
      spool.release(m.segment);
      releaseBody(m);
    },
    onTooBig: (m, records) => {
      releaseBody(m);
      // Rare (the queue's limit is lower than we knew): the records go again, in two messages.
      const whole = {
        segment: m.segment,
        header: records.header,
        lines: EnvelopeLines.fromText(records.lines, records.b64),
        rawBytes: m.size * 4,
      };
      const parts = whole.lines.count > 1 ? halves(whole) : [whole];
      if (parts.length > 1) whole.lines.release();
      for (const part of parts) {
        const encoded = encoder.encode(part, nextSeq++);
        const release = (): void => part.lines.release();
        encoded.then(release, release);
        track(encoded, part.rawBytes);
      }
    },
    onLimitLearned: (bytes) => {
      if (bytes < maxMessageBytes) {
        maxMessageBytes = Math.max(8 * 1024, bytes);
        log.line('warn', `SQS refused a message as too large: max message bytes now ${maxMessageBytes}`);
      }
    },
    onError: (what, error) => {
      stats.sqsErrors++;
      log.throttled(`sqs:${what}`, 10_000, 'warn', `${what} failed (will retry): ${describe(error)}`);
    },
  });
  // Messages whose compression is finishing (on the thread pool); each goes to the sender when done.
  let nextSeq = 0;
  let finishing = 0;
  let compressorBacklog = 0;
  let fatal: unknown;
  const track = (encoded: Promise<EncodedMessage>, rawBytes: number): void => {
    finishing++;
    encoded.then(
      (e) => {
        finishing--;
        if (e.encoding) encoder.observe(rawBytes, e.body.length);
        sender.enqueue(e);
        wake();
      },
      (error: unknown) => {
        finishing--;
        fatal = error;
        wake();
      },
    );
  };
  const encodedTarget = (): number => Math.floor(maxMessageBytes / 10) - 512;
  const packer = new Packer({
    rawTarget: () => encoder.rawTarget(encodedTarget()),
    encodedTarget,
    start: (segment, header) =>
      new MessageBuilder(nextSeq++, segment, header, {
        host,
        stream,
        compression,
        backlogChanged: (delta) => {
          compressorBacklog += delta;
          if (delta < 0) wake();
        },
      }),
    emit: (m) => track(m.finish(), m.rawBytes),
  });
  const reader = new SpoolReader(spool);
  const sink = {
    record: packer.record.bind(packer),
    header: (_s: unknown, h: string) => packer.header(h),
    segmentEnd: (s: Parameters<typeof spool.release>[0]) => {
      packer.segmentEnd(s);
      spool.release(s);
    },
  };

  let wakeUp: (() => void) | undefined;
  const wake = (): void => {
    const w = wakeUp;
    wakeUp = undefined;
    w?.();
  };
  spool.onChange = wake;
  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      wakeUp = () => {
        clearTimeout(t);
        resolve();
      };
    });

  // Periodic work: close the open message, send partial batches, fsync, stats, spool warnings.
  let warned = false;
  const flushTimer = setInterval(() => {
    packer.flush();
    sender.flush();
    writer.sync();
    wake();
    if (spool.totalBytes > args.spoolWarnBytes) {
      log.throttled(
        'spool-warn',
        60_000,
        'warn',
        `spool holds ${spool.totalBytes} bytes (warning at ${args.spoolWarnBytes}, cap ${args.spoolMaxBytes}): is SQS reachable?`,
      );
      warned = true;
    } else if (warned) {
      warned = false;
      log.line('info', `spool back to ${spool.totalBytes} bytes`);
    }
  }, args.flushIntervalMs);
  const logStats = (): void => {
    stats.spooledBytes = spool.totalBytes;
    stats.segments = spool.count;
    stats.requests = sender.requests;
    stats.pendingMessages = sender.pending;
    stats.inflightRequests = sender.inflightRequests;
    log.line('info', formatStats(stats));
  };
  const statsTimer = args.statsIntervalMs > 0 ? setInterval(logStats, args.statsIntervalMs) : undefined;

  let draining = false;
  let deadline = Number.POSITIVE_INFINITY;
  const onSignal = (signal: string): void => {
    log.line('info', `${signal}: stopping`);
    stopReading();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  void inputEnded.then(() => {
    draining = true;
    deadline = Date.now() + args.drainTimeoutMs;
    wake();
  });

  // The shipping loop: bounded read-ahead, in-order encoding, batching in the sender. It yields
  // after every chunk so stdin's callbacks (and timers) run between them.
  const maxPendingMessages = 12;
  for (;;) {
    if (draining && Date.now() >= deadline) break;
    if (fatal !== undefined) throw fatal;
    const idle = finishing === 0 && sender.pending === 0 && packer.pendingRecords === 0;
    if (draining && inputDone && idle && spool.count === 0) break;
    if (
      sender.pending >= maxPendingMessages ||
      finishing > MAX_FINISHING ||
      compressorBacklog > MAX_COMPRESSOR_BACKLOG_BYTES
    ) {
      await Promise.race([sender.waitForProgress(1000), sleep(1000)]);
      continue;
    }
    if (reader.read(READ_AHEAD_BYTES, sink) > 0) {
      await nextTurn();
      continue;
    }
    if (draining) {
      packer.flush();
      sender.flush();
      await Promise.race([sleep(50), sender.waitForProgress(50)]);
    } else {
      await sleep(args.flushIntervalMs);
    }
  }

  clearInterval(flushTimer);
  if (statsTimer) clearInterval(statsTimer);
  sender.stop();
  reader.close();
  stopReading();
  await Promise.all([writer.settled(), spool.settled()]);
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  logStats();
  if (spool.count > 0)
    log.line('info', `exiting with ${spool.totalBytes} bytes left in the spool for the next start`);
  client.destroy();
  return EXIT.ok;
}

/** The queue's MaximumMessageSize, if this identity may read it (a SendMessage-only one may not). */
async function learnQueueLimit(
  client: QueueApi,
  args: ShipperArgs,
  log: ShipperLog,
  attempt = 1,
): Promise<number | undefined> {
  try {
    const attributes = await client.getQueueAttributes(
      args.queueUrl,
      ['MaximumMessageSize'],
      AbortSignal.timeout(5_000),
    );
    const bytes = Number(attributes.MaximumMessageSize);
    if (!Number.isSafeInteger(bytes) || bytes <= 0) return undefined;
    log.line('info', `queue MaximumMessageSize=${bytes}`);
    return bytes;
  } catch (error) {
    const denied = /denied|unauthori[sz]ed|forbidden/i.test(describe(error));
    if (!denied && attempt < 12) {
      // SQS may be unreachable at start: try again soon, then less often (12 attempts, ~10 min),
      // so a backlog left by an outage is drained in full-size messages once SQS is back.
      await new Promise((r) => setTimeout(r, Math.min(60_000, 500 * 2 ** attempt)).unref());
      return learnQueueLimit(client, args, log, attempt + 1);
    }
    log.line(
      'info',
      `cannot read the queue's MaximumMessageSize (${describe(error)}); using ${args.maxMessageBytes}`,
    );
    return undefined;
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

export { main };
