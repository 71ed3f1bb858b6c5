/** `pmta-bounce status` lists unsubscribe requests owed for more than 24 h (the 48-hour promise). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { statusCommand } from '#cli/status-command.ts';
import type { Action } from '#core/act/action.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-overdue-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const NOW = Date.parse('2026-12-06T12:00:00Z');
const HOUR = 3_600_000;

function unsubscribe(subject: string, requestedAt: number | undefined): Action {
  return {
    v: 1,
    id: subject,
    subject,
    target: { type: 'email', address: subject },
    kind: 'unsubscribe',
    reason: 'one-click unsubscribe: the sealed address',
    providers: ['mw'],
    ...(requestedAt === undefined ? {} : { requestedAt }),
  };
}

async function status(path: string, json = false) {
  let stdout = '';
  const out = new PassThrough().on('data', (d) => {
    stdout += d;
  });
  const io = { stdin: Readable.from([]), stdout: out, stderr: new PassThrough(), env: {}, now: () => NOW };
  expect(await statusCommand(['--state', path, ...(json ? ['--json'] : [])], io)).toBe(0);
  return stdout;
}

describe('status: unsubscribes older than 24 h', () => {
  it('lists only unsubscribe requests over 24 h, oldest first, and gives the oldest age in --json', async () => {
    const path = join(dir, 'state.db');
    const store = new SqliteSuppressionStore({ path });
    store.outbox.enqueue([
      unsubscribe('fresh@example.com', NOW - 2 * HOUR),
      unsubscribe('late@example.com', NOW - 30 * HOUR),
      unsubscribe('later@example.com', NOW - 50 * HOUR),
      unsubscribe('bounce-era@example.com', undefined),
    ]);
    await store.close();
    const text = await status(path);
    expect(text).toContain('unsubscribe requests older than 24 h, not yet done: 2');
    expect(text.indexOf('later@example.com')).toBeLessThan(text.indexOf('late@example.com requested'));
    expect(text).toContain('late@example.com requested 2026-12-05T06:00:00.000Z (30 h) pending at mw');
    expect(text).not.toContain('fresh@example.com');
    const json = JSON.parse(await status(path, true));
    expect(json.unsubscribes.oldestAgeMs).toBe(50 * HOUR);
    expect(json.unsubscribes.overdue).toHaveLength(2);
  });
});
