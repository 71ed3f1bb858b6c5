/**
 * The real shipper process against fauxqs on 127.0.0.1: records arrive exactly as written through
 * header changes, quoted newlines and malformed bytes; nothing read is lost across SIGKILLs, an SQS
 * outage, or SendMessageBatch partial failures.
 */
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelopeBodyCodec } from '#adapters/sqs/gzip-base64.ts';
import { decodeEnvelope, type Envelope } from '#core/envelope/envelope.ts';
import { ACCT_HEADER, createRandom, createRecordGenerator } from '#test/support/builders.ts';
import { countRecords, drainQueue, spawnShipper, streamRecords } from '#test/support/shipper-process.ts';
import { startSqsFaultProxy } from '#test/support/sqs-fault-proxy.ts';
import { type SqsServer, startSqsServer } from '#test/support/sqs-server.ts';

let sqs: SqsServer;
let tmp: string;
let queueCounter = 0;

beforeAll(async () => {
  sqs = await startSqsServer();
  tmp = mkdtempSync(join(tmpdir(), 'pmta-shipper-test-'));
});

afterAll(async () => {
  await sqs?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function freshQueue(): Promise<{ url: string; spool: string }> {
  queueCounter++;
  return { url: await sqs.createQueue(`records-${queueCounter}`), spool: join(tmp, `spool-${queueCounter}`) };
}

function baseArgs(url: string, spool: string, endpoint = sqs.endpoint): string[] {
  return ['--queue-url', url, '--endpoint-url', endpoint, '--spool-dir', spool, '--stats-interval-ms', '0'];
}

const HEADER_B = 'type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,header_X-Mailer-LID';

describe('pmta-shipper', () => {
  it('ships every record exactly as written: order, CRLF, quoted newlines, header changes, malformed bytes', async () => {
    const { url, spool } = await freshQueue();
    const gen = createRecordGenerator(3);
    const parts: Array<{ header?: string; record?: Buffer }> = [{ header: ACCT_HEADER }];
    for (let i = 0; i < 300; i++) parts.push({ record: Buffer.from(gen(i)) });
    parts.push({
      record: Buffer.from('b,2024-05-29 01:10:51+0200,"multi\r\nline ""quoted"" diag\nwith LF",x@y.z'),
    });
    parts.push({ header: HEADER_B });
    parts.push({
      record: Buffer.from('rb,2024-05-29 01:11:00+0200,a@b.c,d@e.f,5.1.1,"smtp;550 ok, fine",bad-mailbox,17'),
    });
    parts.push({ record: Buffer.from([0x62, 0x2c, 0xff, 0xfe, 0x80, 0x2c, 0x41]) }); // not UTF-8
    parts.push({ record: Buffer.from('f,stray"quote,mid"field,\uFFFF\uFFFE,\u0000ctl') });
    parts.push({ header: ACCT_HEADER });
    for (let i = 300; i < 600; i++) parts.push({ record: Buffer.from(gen(i)) });
    // Last: a quote that never closes runs to end of input, where it still ends as a record.
    parts.push({ record: Buffer.from('b,"unterminated quote at the end of input,x') });
    const bytes = Buffer.concat(
      parts.map((p) =>
        Buffer.concat([p.header ? Buffer.from(p.header) : (p.record as Buffer), Buffer.from('\r\n')]),
      ),
    );

    const run = spawnShipper([...baseArgs(url, spool), '--flush-interval-ms', '200']);
    // Write in odd-sized pieces with pauses so records straddle reads.
    const rnd = createRandom(11);
    for (let off = 0; off < bytes.length; ) {
      const n = 1 + Math.floor(rnd() * 9000);
      run.child.stdin?.write(bytes.subarray(off, off + n));
      off += n;
      if (rnd() < 0.1) await new Promise((r) => setTimeout(r, 20));
    }
    run.child.stdin?.end();
    expect((await run.exited).code).toBe(0);

    const expected = parts.filter((p) => p.record !== undefined);
    const envelopes = await drainQueue(
      sqs.client(),
      url,
      (all) => countRecords(all) >= expected.length,
      20_000,
    );
    const streams = streamRecords(envelopes);
    expect(streams.size).toBe(1);
    const got = [...streams.values()][0] ?? [];
    const asText = (b: Buffer): string => b.toString('latin1');
    expect(got.map((g) => asText(g.bytes))).toEqual(expected.map((p) => asText(p.record as Buffer)));
    // Header in force travels with each record; a message never spans a header change.
    const headers = got.map((g) => g.header);
    expect(headers[0]).toBe(ACCT_HEADER);
    expect(headers[301]).toBe(HEADER_B);
    expect(headers.at(-1)).toBe(ACCT_HEADER);
    expect(readSpoolLeft(spool)).toEqual([]);
  });

  it('loses nothing across 20 SIGKILLs at random points with restarts', async () => {
    const { url, spool } = await freshQueue();
    const gen = createRecordGenerator(5);
    const records = Array.from({ length: 30_000 }, (_, i) => gen(i));
    const input = join(tmp, 'kill-input.csv');
    writeFileSync(input, `${ACCT_HEADER}\r\n${records.join('\r\n')}\r\n`);
    const size = readFileSync(input).length;
    // One open file shared by every run: its offset (from /proc) says exactly what each run read.
    const fd = openSync(input, 'r');
    const rnd = createRandom(2024);
    const targets = Array.from({ length: 10 }, () => Math.floor(rnd() * size)).sort((a, b) => a - b);
    const cuts: number[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const run = spawnShipper(
          [...baseArgs(url, spool), '--segment-bytes', '1048576', '--flush-interval-ms', '100'],
          fd,
        );
        const byOffset = i % 2 === 0;
        const target = targets[i / 2] ?? size;
        const started = Date.now();
        // Even runs: kill once the run has read past a random offset; odd runs: after a random delay.
        const delay = 300 + Math.floor(rnd() * 1500);
        for (let polls = 0; polls < 2000; polls++) {
          if (
            byOffset
              ? offsetOf(run.child.pid as number) >= target || Date.now() - started > 8000
              : Date.now() - started >= delay
          )
            break;
          if (run.child.exitCode !== null) break;
          await new Promise((r) => setTimeout(r, 2));
        }
        run.child.kill('SIGKILL');
        await run.exited;
        cuts.push(fileOffset(fd));
      }
      const last = spawnShipper([...baseArgs(url, spool), '--drain-timeout-ms', '30000'], fd);
      expect((await last.exited).code).toBe(0);
      expect(readSpoolLeft(spool)).toEqual([]);
    } finally {
      closeSync(fd);
    }
    const envelopes = await drainQueue(sqs.client(), url, () => false, 60_000, { stopWhenEmpty: true });
    const received = new Set(envelopes.flatMap((e) => e.lines));
    // A record cut by a kill mid-read arrives as the two pieces each run read.
    let offset = Buffer.byteLength(`${ACCT_HEADER}\r\n`);
    const lost: string[] = [];
    for (const r of records) {
      const start = offset;
      offset += Buffer.byteLength(r) + 2;
      if (received.has(r)) continue;
      const cut = cuts.find((c) => c > start && c < offset);
      const at = cut === undefined ? -1 : cut - start;
      if (
        at < 0 ||
        !(received.has(r.slice(0, at)) || at >= r.length) ||
        (!received.has(r.slice(at)) && at < r.length)
      )
        lost.push(r);
    }
    expect(lost, `${lost.length} lost; stdin offset after each kill: ${cuts.join(' ')}`).toEqual([]);
  }, 120_000);

  it('keeps everything through an SQS outage and SendMessageBatch partial failures', async () => {
    const { url, spool } = await freshQueue();
    const proxy = await startSqsFaultProxy(sqs.endpoint, {
      failEntry: (_id, attempt) => attempt === 1 && Math.random() < 0.3,
    });
    try {
      const gen = createRecordGenerator(9);
      const records = Array.from({ length: 20_000 }, (_, i) => gen(i));
      const run = spawnShipper([
        ...baseArgs(url, spool, proxy.endpoint),
        '--flush-interval-ms',
        '100',
        '--drain-timeout-ms',
        '40000',
      ]);
      run.child.stdin?.write(`${ACCT_HEADER}\r\n${records.slice(0, 5000).join('\r\n')}\r\n`);
      await new Promise((r) => setTimeout(r, 1500));
      await proxy.down();
      run.child.stdin?.write(`${records.slice(5000, 15000).join('\r\n')}\r\n`);
      await new Promise((r) => setTimeout(r, 3000));
      await proxy.up();
      run.child.stdin?.end(`${records.slice(15000).join('\r\n')}\r\n`);
      expect((await run.exited).code).toBe(0);
      expect(run.stderr()).toMatch(/sqsErrors=[1-9]/);
      expect(proxy.counts.failedEntries).toBeGreaterThan(0);
      const envelopes = await drainQueue(
        sqs.client(),
        url,
        (all) => countRecords(all) >= records.length,
        20_000,
      );
      const got = [...streamRecords(envelopes).values()][0]?.map((g) => g.bytes.toString('utf8'));
      expect(got?.length, run.stderr()).toBe(records.length);
      expect(got).toEqual(records);
      expect(readSpoolLeft(spool)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  }, 90_000);
});

describe('pmta-shipper --compression gzip', () => {
  it('ships gzip bodies (envelope v1 as first specified) with every record exactly as written', async () => {
    const url = await sqs.createQueue('gzip-bodies');
    const spool = join(tmp, 'spool-gzip');
    const gen = createRecordGenerator(33);
    // Enough for messages that are compressed as they grow, not only whole.
    const records = Array.from({ length: 4_000 }, (_, i) => gen(i));
    const run = spawnShipper([
      ...baseArgs(url, spool),
      '--compression',
      'gzip',
      '--max-message-bytes',
      '1048576',
    ]);
    run.child.stdin?.end(`${ACCT_HEADER}\r\n${records.join('\r\n')}\r\n`);
    expect((await run.exited).code).toBe(0);
    const encodings = new Set<string>();
    const client = sqs.client();
    const envelopes: Envelope[] = [];
    for (let i = 0; i < 20 && countRecords(envelopes) < records.length; i++) {
      const out = await client.send(
        new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, MessageAttributeNames: ['All'] }),
      );
      for (const m of out.Messages ?? []) {
        const encoding = m.MessageAttributes?.ContentEncoding?.StringValue ?? 'none';
        encodings.add(encoding);
        const decoded = decodeEnvelope(
          m.Body ?? '',
          encoding === 'none' ? undefined : encoding,
          envelopeBodyCodec,
        );
        if (!decoded.ok) throw new Error(`${decoded.error.field}: ${decoded.error.reason}`);
        envelopes.push(decoded.envelope);
      }
    }
    expect([...encodings]).toEqual(['gzip']);
    const got = [...streamRecords(envelopes).values()][0]?.map((g) => g.bytes.toString('utf8'));
    expect(got).toEqual(records);
    expect(readSpoolLeft(spool)).toEqual([]);
  }, 60_000);
});

describe('pmta-shipper against a queue with a smaller limit than it was told', () => {
  it('re-packs what SQS refuses as too large and loses nothing', async () => {
    const url = await sqs.createQueue('small-limit', { MaximumMessageSize: '16384' });
    const spool = join(tmp, 'spool-small-limit');
    // The identity may not read the queue's attributes, so the shipper starts from its default.
    const proxy = await startSqsFaultProxy(sqs.endpoint, { denyGetQueueAttributes: true });
    try {
      const gen = createRecordGenerator(21);
      const records = Array.from({ length: 3_000 }, (_, i) => gen(i));
      const run = spawnShipper([...baseArgs(url, spool, proxy.endpoint), '--drain-timeout-ms', '40000']);
      run.child.stdin?.end(`${ACCT_HEADER}\r\n${records.join('\r\n')}\r\n`);
      expect((await run.exited).code).toBe(0);
      expect(run.stderr()).toMatch(/cannot read the queue's MaximumMessageSize/);
      expect(run.stderr()).toMatch(/refused a message as too large/);
      const envelopes = await drainQueue(
        sqs.client(),
        url,
        (all) => countRecords(all) >= records.length,
        20_000,
      );
      const got = [...streamRecords(envelopes).values()][0]?.map((g) => g.bytes.toString('utf8')) ?? [];
      // Re-packed records take new (later) numbers, so only the set is compared here.
      expect(got.length).toBe(records.length);
      expect([...got].sort()).toEqual([...records].sort());
      expect(readSpoolLeft(spool)).toEqual([]);
    } finally {
      await proxy.stop();
    }
  }, 90_000);
});

function offsetOf(pid: number): number {
  try {
    return Number(/pos:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/fdinfo/0`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

function fileOffset(fd: number): number {
  return Number(/pos:\s+(\d+)/.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))?.[1] ?? Number.NaN);
}

function readSpoolLeft(spool: string): string[] {
  try {
    return readdirSync(spool).filter((f) => f.endsWith('.seg'));
  } catch {
    return [];
  }
}
