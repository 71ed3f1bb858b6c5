/** Spawns the real shipper (node + tsx loader) and drains a queue into decoded envelopes, for tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { envelopeBodyCodec } from '#adapters/sqs/gzip-base64.ts';
import { decodeEnvelope, type Envelope, envelopeRecords } from '#core/envelope/envelope.ts';
import { TEST_CREDENTIALS } from './sqs-server.ts';

const ROOT = join(import.meta.dirname, '../..');

interface ShipperRun {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function spawnShipper(args: string[], stdin: 'pipe' | number = 'pipe'): ShipperRun {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'shipper/cli.ts'), ...args], {
    cwd: ROOT,
    stdio: [stdin, 'ignore', 'pipe'],
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  });
  let stderr = '';
  child.stderr?.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stderr: () => stderr, exited };
}

/** Receives and deletes until `done(envelopes)` is true or `timeoutMs` passes. */
async function drainQueue(
  client: SQSClient,
  queueUrl: string,
  done: (all: Envelope[]) => boolean,
  timeoutMs: number,
  options: { stopWhenEmpty?: boolean } = {},
): Promise<Envelope[]> {
  const all: Envelope[] = [];
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && !done(all)) {
    const out = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0 && options.stopWhenEmpty) break;
    for (const m of messages) {
      const decoded = decodeEnvelope(
        m.Body ?? '',
        m.MessageAttributes?.ContentEncoding?.StringValue,
        envelopeBodyCodec,
      );
      if (!decoded.ok)
        throw new Error(`undecodable message: ${decoded.error.field}: ${decoded.error.reason}`);
      all.push(decoded.envelope);
    }
    if (messages.length > 0) {
      await client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
  }
  return all;
}

/** Records of each stream in `seq` order, as their exact bytes. */
function streamRecords(
  envelopes: Envelope[],
): Map<string, Array<{ header: string | undefined; bytes: Buffer }>> {
  const byStream = new Map<string, Envelope[]>();
  for (const e of uniqueEnvelopes(envelopes)) byStream.set(e.stream, [...(byStream.get(e.stream) ?? []), e]);
  const out = new Map<string, Array<{ header: string | undefined; bytes: Buffer }>>();
  for (const [stream, list] of byStream) {
    list.sort((a, b) => a.seq - b.seq);
    out.set(
      stream,
      list.flatMap((e) =>
        envelopeRecords(e).map((r) => ({
          header: e.header,
          bytes: r.rawBase64 ? Buffer.from(r.rawBase64, 'base64') : Buffer.from(r.text, 'utf8'),
        })),
      ),
    );
  }
  return out;
}

/** At-least-once: a resent message keeps its stream and seq, so those identify duplicates. */
function uniqueEnvelopes(envelopes: Envelope[]): Envelope[] {
  const seen = new Map<string, Envelope>();
  for (const e of envelopes) seen.set(`${e.stream}/${e.seq}`, e);
  return [...seen.values()];
}

function countRecords(envelopes: Envelope[]): number {
  return uniqueEnvelopes(envelopes).reduce((n, e) => n + e.lines.length, 0);
}

export type { ShipperRun };
export { countRecords, drainQueue, spawnShipper, streamRecords, uniqueEnvelopes };
