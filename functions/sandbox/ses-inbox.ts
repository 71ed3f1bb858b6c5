/**
 * The sandbox's stand-in for SES inbound mail: watches a directory for `.eml` files, turns each
 * into a real-shaped SES receipt event (Lambda action) and invokes the unsub handler with it, then
 * moves the file to `done/` (or `failed/` when the handler threw). Only headers are read.
 *
 * Test hooks: `X-Sandbox-Envelope-To` (comma-separated) sets the envelope recipients (default: To
 * and Cc); `X-Sandbox-Spam-Verdict`, `-Virus-`, `-Spf-`, `-Dkim-`, `-Dmarc-Verdict` set verdicts
 * (default PASS).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, rename, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Context, SESEvent, SESReceiptStatus } from 'aws-lambda';
import {
  headerValue,
  type MailHeader,
  parseAddressList,
  parseMailHeaders,
} from '#core/unsubscribe/mail-headers.ts';

type SesInboxHandler = (event: SESEvent, context: Context) => Promise<unknown>;

interface SesInboxPollerOptions {
  dir: string;
  /** The unsub Lambda handler (the module's `handler` export). */
  handler: SesInboxHandler;
  /** Like a receipt rule: only envelope recipients at these domains become `receipt.recipients`. */
  recipientDomains?: readonly string[] | undefined;
  intervalMs?: number | undefined;
  maxFilesPerPoll?: number | undefined;
  /** Bytes read from the start of each file (headers only). */
  maxHeaderBytes?: number | undefined;
  /** A file younger than this may still be being written: left for the next poll. */
  settleMs?: number | undefined;
  region?: string | undefined;
  log?: ((line: string) => void) | undefined;
  now?: (() => number) | undefined;
}

interface PollResult {
  processed: number;
  failed: number;
}

interface SesInboxPoller {
  pollOnce(): Promise<PollResult>;
  start(): void;
  /** Stops polling and waits for a poll in progress. */
  stop(): Promise<void>;
}

const VERDICT_STATUSES = new Set(['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED']);

function verdict(headers: readonly MailHeader[], name: string): SESReceiptStatus {
  const v = headerValue(headers, `X-Sandbox-${name}-Verdict`)?.trim().toUpperCase();
  return { status: (v && VERDICT_STATUSES.has(v) ? v : 'PASS') as SESReceiptStatus['status'] };
}

interface SesEventOptions {
  messageId: string;
  /** ms since epoch. */
  receivedAt: number;
  recipientDomains?: readonly string[] | undefined;
  region?: string | undefined;
}

/** A SES receipt event (Lambda action) for a mail whose header block is `text`. */
function sesEventFromMail(text: string, options: SesEventOptions): SESEvent {
  const { headers, truncated } = parseMailHeaders(text);
  const list = (name: string) => parseAddressList(headerValue(headers, name) ?? '');
  const override = headerValue(headers, 'X-Sandbox-Envelope-To');
  const destination = (override ? parseAddressList(override) : [...list('To'), ...list('Cc')]).map((a) =>
    a.toLowerCase(),
  );
  const domains = options.recipientDomains?.map((d) => d.toLowerCase());
  const recipients = domains
    ? destination.filter((a) => domains.includes(a.slice(a.lastIndexOf('@') + 1)))
    : destination;
  const from = list('From');
  const returnPath = parseAddressList(headerValue(headers, 'Return-Path') ?? '')[0] ?? from[0] ?? '';
  const timestamp = new Date(options.receivedAt).toISOString();
  const region = options.region ?? 'us-east-1';
  const subject = headerValue(headers, 'Subject');
  const date = headerValue(headers, 'Date');
  return {
    Records: [
      {
        eventSource: 'aws:ses',
        eventVersion: '1.0',
        ses: {
          mail: {
            timestamp,
            source: returnPath,
            messageId: options.messageId,
            destination,
            headersTruncated: truncated,
            headers,
            commonHeaders: {
              returnPath,
              from,
              date: date ?? timestamp,
              to: list('To'),
              messageId: headerValue(headers, 'Message-ID') ?? `<${options.messageId}@sandbox>`,
              ...(subject !== undefined ? { subject } : {}),
            },
          },
          receipt: {
            timestamp,
            processingTimeMillis: 1,
            recipients,
            spamVerdict: verdict(headers, 'Spam'),
            virusVerdict: verdict(headers, 'Virus'),
            spfVerdict: verdict(headers, 'Spf'),
            dkimVerdict: verdict(headers, 'Dkim'),
            dmarcVerdict: verdict(headers, 'Dmarc'),
            action: {
              type: 'Lambda',
              functionArn: `arn:aws:lambda:${region}:000000000000:function:pmta-bounce-unsub`,
              invocationType: 'Event',
            },
          },
        },
      },
    ],
  };
}

function lambdaContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'pmta-bounce-unsub',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:pmta-bounce-unsub',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/pmta-bounce-unsub',
    logStreamName: 'sandbox',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

async function readHead(path: string, maxBytes: number): Promise<string> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(maxBytes);
    const { bytesRead } = await file.read(buffer, 0, maxBytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await file.close();
  }
}

function createSesInboxPoller(options: SesInboxPollerOptions): SesInboxPoller {
  const now = options.now ?? Date.now;
  const log = options.log ?? (() => {});
  const maxFiles = options.maxFilesPerPoll ?? 50;
  const maxHeaderBytes = options.maxHeaderBytes ?? 256 * 1024;
  const settleMs = options.settleMs ?? 200;
  const doneDir = join(options.dir, 'done');
  const failedDir = join(options.dir, 'failed');
  mkdirSync(doneDir, { recursive: true });
  mkdirSync(failedDir, { recursive: true });
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<PollResult> | undefined;

  async function processFile(name: string): Promise<boolean> {
    const path = join(options.dir, name);
    const messageId = randomUUID();
    try {
      const text = await readHead(path, maxHeaderBytes);
      const event = sesEventFromMail(text, {
        messageId,
        receivedAt: now(),
        recipientDomains: options.recipientDomains,
        region: options.region,
      });
      await options.handler(event, lambdaContext(messageId));
      await rename(path, join(doneDir, name));
      log(`ses-inbox: ${name} -> done (${event.Records[0]!.ses.receipt.recipients.length} recipient(s))`);
      return true;
    } catch (error) {
      await rename(path, join(failedDir, name)).catch(() => {});
      log(`ses-inbox: ${name} -> failed: ${error instanceof Error ? error.message : String(error)}`);
      return false;
    }
  }

  async function poll(): Promise<PollResult> {
    const names = (await readdir(options.dir)).filter((n) => n.endsWith('.eml')).sort();
    const result: PollResult = { processed: 0, failed: 0 };
    for (const name of names.slice(0, maxFiles)) {
      const info = await stat(join(options.dir, name)).catch(() => undefined);
      if (!info?.isFile() || now() - info.mtimeMs < settleMs) continue;
      if (await processFile(basename(name))) result.processed += 1;
      else result.failed += 1;
    }
    return result;
  }

  const pollOnce = (): Promise<PollResult> => {
    // One poll at a time: the interval may fire while a slow handler is still running.
    running ??= poll().finally(() => {
      running = undefined;
    });
    return running;
  };

  return {
    pollOnce,
    start() {
      if (timer) return;
      timer = setInterval(() => {
        pollOnce().catch((error: unknown) => log(`ses-inbox: poll failed: ${String(error)}`));
      }, options.intervalMs ?? 1000);
      timer.unref?.();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => {});
    },
  };
}

export type { PollResult, SesEventOptions, SesInboxHandler, SesInboxPoller, SesInboxPollerOptions };
export { createSesInboxPoller, sesEventFromMail };
