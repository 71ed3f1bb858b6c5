/**
 * A reader that stops early (`pmta-bounce suppressions export | head -1`) closes the pipe: the
 * command ends quietly with exit 0, as Unix tools do, not with an unhandled EPIPE (cli-io.ts).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCliText } from '#test/support/cli-run.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pmta-bounce.js');
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-pipe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const state = join(dir, 'state.db');

beforeAll(async () => {
  // 2,000 suppressions: far more output than a pipe buffer holds.
  const lines = ['type,timeLogged,rcpt,dsnStatus,bounceCat'];
  for (let i = 0; i < 2000; i++)
    lines.push(`b,2026-11-01 10:00:00+0000,user${i}@example.com,5.1.1,bad-mailbox`);
  const input = join(dir, 'acct.csv');
  writeFileSync(input, `${lines.join('\n')}\n`);
  expect((await runCliText(['process', input, '--state', state])).code).toBe(0);
});

describe('output to a pipe closed early', () => {
  // The bin runs the bundle when it is fresh, the sources through tsx otherwise (its loader pipes
  // into stdout, which once hid the EPIPE handler: cli-io.ts).
  it.each([
    ['the bundle or the sources, as found', {}],
    ['the TypeScript sources through tsx', { PMTA_BOUNCE_FROM_SOURCE: '1' }],
  ])('suppressions export | head -1 (%s): exit 0, nothing on stderr', async (_, env) => {
    const child = spawn(process.execPath, [BIN, 'suppressions', 'export', '--state', state], {
      cwd: ROOT,
      env: { ...process.env, PMTA_BOUNCE_CONFIG: '', ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    // Read the header line, then close our end, as `head -1` does.
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
    child.stdout.destroy();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });
});
