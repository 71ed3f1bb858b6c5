/**
 * Child process of reader-memory.test.ts: feeds LINES generated accounting lines (a mix of good
 * records, rejects, a 1 MB line, invalid UTF-8 and NUL bytes every so often) through the streaming
 * reader in 64 KiB chunks and prints one JSON line: counts and the peak heap after forced GCs.
 * Runs under a small --max-old-space-size: finishing at all is the first assertion.
 */
import { createAccountingReader } from '#core/accounting/accounting-reader.ts';

const LINES = Number(process.argv[2] ?? 100_000);
const CHUNK = 64 * 1024;
const gc = (globalThis as { gc?: () => void }).gc;

const counts = { ok: 0, ignored: 0, rejected: 0 };
const reader = createAccountingReader({}, (o) => {
  if (o.ok) counts.ok += 1;
  else counts[o.kind === 'ignored' ? 'ignored' : 'rejected'] += 1;
});

const BIG = Buffer.alloc(1 << 20, 0x61);
function line(i: number): Buffer {
  if (i === 0) return Buffer.from('type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat\n');
  if (i % 250_000 === 1)
    return Buffer.concat([Buffer.from('b,1764000000,n@example.com,'), BIG, Buffer.from('\n')]);
  if (i % 1000 === 7) return Buffer.from([0x62, 0x2c, 0xff, 0xfe, 0x00, 0x2c, 0xc3, 0x28, 0x0a]);
  if (i % 1000 === 9)
    return Buffer.from(`b,1764000000,n@example.com,nul\u0000${i}@example.com,5.1.1,,bad-mailbox\n`);
  return Buffer.from(
    `b,${1764000000 + i},news@example.com,user${i}@example.com,5.1.1,"smtp;550 5.1.1 <user${i}@example.com>: no such user",bad-mailbox\n`,
  );
}

let peak = 0;
const sample = (): void => {
  gc?.();
  peak = Math.max(peak, process.memoryUsage().heapUsed);
};
sample();
const base = peak;
let pending: Buffer[] = [];
let size = 0;
for (let i = 0; i <= LINES; i += 1) {
  const b = line(i);
  pending.push(b);
  size += b.length;
  if (size >= CHUNK) {
    const chunk = Buffer.concat(pending);
    // Uneven cuts so records straddle chunk boundaries.
    const cut = (i * 7919) % chunk.length;
    reader.write(chunk.subarray(0, cut));
    reader.write(chunk.subarray(cut));
    pending = [];
    size = 0;
  }
  if (i % 50_000 === 0) sample();
}
reader.write(Buffer.concat(pending));
reader.end();
sample();
process.stdout.write(`${JSON.stringify({ ...counts, baseHeap: base, peakHeap: peak })}\n`);
