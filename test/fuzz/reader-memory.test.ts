/**
 * Bounded memory on bad and big input: a 1 MB single line, invalid UTF-8 and NUL bytes are each one
 * outcome and the stream goes on; a generated stream of 100k lines (1M in the full run, FC_RUNS at
 * its full count) runs through the reader in a child limited to a 64 MB old space, and the heap
 * after GC stays within a few MB of where it started.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAccountingReader, MAX_RECORD_BYTES } from '#core/accounting/accounting-reader.ts';
import type { ParseOutcome } from '#core/mail-event.ts';
import { FULL_RUN } from './fuzz-runs.ts';

const ROOT = join(import.meta.dirname, '../..');
const CHILD = join(import.meta.dirname, 'support/reader-memory-child.ts');

describe('accounting reader: memory bounds', () => {
  it('a 1 MB line, invalid UTF-8 and NUL bytes: one outcome each, with a line and a reason', () => {
    const out: ParseOutcome[] = [];
    const reader = createAccountingReader({}, (o) => out.push(o));
    reader.write('type,rcpt,bounceCat\n');
    const big = Buffer.alloc(1 << 20, 0x78);
    for (let i = 0; i < big.length; i += 4096) reader.write(big.subarray(i, i + 4096));
    reader.write('\n');
    reader.write(Buffer.from([0x62, 0x2c, 0xff, 0xfe, 0xc3, 0x28, 0x2c, 0x0a]));
    reader.write(Buffer.from('b,a\u0000b@example.com,bad-mailbox\n\u0000\u0000\u0000\n'));
    reader.write('b,ok@example.com,bad-mailbox\n');
    reader.end();
    expect(out.map((o) => (o.ok ? o.event.line : o.line))).toEqual([2, 3, 4, 5, 6]);
    const [huge, binary, nul, nuls, good] = out;
    expect(huge).toMatchObject({ ok: false, kind: 'rejected', line: 2 });
    if (huge && !huge.ok) {
      expect(huge.reason).toMatch(new RegExp(`${MAX_RECORD_BYTES}|longer|too long|bytes`));
      expect(huge.kind === 'rejected' && huge.raw.length).toBeLessThanOrEqual(4096);
    }
    for (const o of [binary, nul, nuls]) {
      expect(o?.ok).toBe(false);
      if (o && !o.ok) expect(o.reason.length).toBeGreaterThan(3);
    }
    expect(good).toMatchObject({ ok: true, event: { recipient: 'ok@example.com', line: 6 } });
  });

  const lines = FULL_RUN ? 1_000_000 : 100_000;
  it(
    `${lines.toLocaleString('en')} generated lines in a 64 MB heap: done, every line counted, heap flat`,
    () => {
      const run = spawnSync(
        process.execPath,
        ['--max-old-space-size=64', '--expose-gc', '--import', 'tsx', CHILD, String(lines)],
        { cwd: ROOT, encoding: 'utf8', timeout: FULL_RUN ? 300_000 : 60_000 },
      );
      expect(run.status, run.stderr.slice(0, 500)).toBe(0);
      const result = JSON.parse(run.stdout.trim()) as {
        ok: number;
        ignored: number;
        rejected: number;
        baseHeap: number;
        peakHeap: number;
      };
      expect(result.ok + result.ignored + result.rejected).toBe(lines);
      expect(result.rejected).toBeGreaterThanOrEqual(Math.floor(lines / 1000));
      expect(result.peakHeap - result.baseHeap).toBeLessThan(16 * 1024 * 1024);
    },
    FULL_RUN ? 320_000 : 70_000,
  );
});
