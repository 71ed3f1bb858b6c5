import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '#cli/cli-io.ts';
import { redriveCommand, sandboxCommand } from '#sandbox/sandbox.ts';

function io(): CliIo & { out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c) => (out += c));
  stderr.on('data', (c) => (err += c));
  return { stdin: new PassThrough(), stdout, stderr, env: {}, now: () => 0, out: () => out, err: () => err };
}

describe('sandbox and redrive commands', () => {
  it('print their usage', async () => {
    const a = io();
    expect(await sandboxCommand(['--help'], a)).toBe(0);
    expect(a.out()).toContain('pmta-bounce sandbox');
    const b = io();
    expect(await redriveCommand(['--help'], b)).toBe(0);
    expect(b.out()).toContain('start-message-move-task');
  });

  it('exit 2 on an unknown flag', async () => {
    const a = io();
    expect(await sandboxCommand(['--nope'], a)).toBe(2);
    expect(a.err()).toContain('--nope');
    expect(await redriveCommand(['--nope'], io())).toBe(2);
  });
});
