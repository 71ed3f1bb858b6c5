/**
 * The CI guard over the whole test output: it passes text through unchanged and fails on any form
 * of the canary credential. Inputs that hold the canary are built at run time and never printed.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { canaryForms, createCanaryScanner, TEST_CANARY } from '../../scripts/scan-canary.ts';
import { CANARY, CANARY_ENV, expectNoCanary } from './canary.ts';

const ROOT = join(import.meta.dirname, '../..');

function scan(input: string) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/scan-canary.ts'], {
    cwd: ROOT,
    input,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('scan-canary', () => {
  it('the test environment carries the same canary the scanner looks for', () => {
    expect(process.env[CANARY_ENV]).toBe(TEST_CANARY);
    expect(CANARY).toBe(TEST_CANARY);
  });

  it('expectNoCanary sees the canary in an error cause and in base64, and names only where', () => {
    const leaky = new Error('outer', { cause: new Error(`inner ${CANARY}`) });
    expect(() => expectNoCanary({ clean: 'ok', leaky })).toThrow(/leaky: raw/);
    expect(() =>
      expectNoCanary({ header: `Basic ${Buffer.from(`u:${CANARY}`).toString('base64')}` }),
    ).toThrow(/header: base64@2/);
    expect(() => expectNoCanary({ clean: 'ok', nested: { a: [1, 'b'] } })).not.toThrow();
  });

  it('passes clean output through unchanged and exits 0', () => {
    const input = ' ✓ test/unit/a.test.ts (3 tests)\nTest Files  1 passed\n'.repeat(500);
    const run = scan(input);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(input);
  });

  it.each([
    { case: 'raw', make: (c: string) => `log {"apiKey":"${c}"}` },
    { case: 'base64 at offset 0', make: (c: string) => Buffer.from(c).toString('base64') },
    { case: 'base64 at offset 1', make: (c: string) => Buffer.from(`x${c}`).toString('base64') },
    { case: 'base64 at offset 2', make: (c: string) => Buffer.from(`Basic ${c}:`).toString('base64') },
    {
      case: 'base64url',
      make: (c: string) =>
        Buffer.from(`??>${c}`).toString('base64').replaceAll('+', '-').replaceAll('/', '_'),
    },
    { case: 'URL-encoded', make: (c: string) => `GET /x?key=${encodeURIComponent(c)}` },
  ])('fails on the canary $case, without printing it in its verdict', ({ make }) => {
    const run = scan(`line one\nline two\n${make(TEST_CANARY)}\nline four\n`);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/FAILED.*1 time\(s\).*line 3/);
    expect(canaryForms().some(([, form]) => run.stderr.includes(form))).toBe(false);
  });

  it('finds a leak split across chunks, once, with its line number', () => {
    const text = `a\nb\nkey=${TEST_CANARY} and again ${TEST_CANARY}\n`;
    for (const size of [1, 3, 7, 64]) {
      const scanner = createCanaryScanner();
      for (let i = 0; i < text.length; i += size) scanner.write(text.slice(i, i + size));
      expect(scanner.hits).toEqual([
        { form: 'raw', line: 3 },
        { form: 'raw', line: 3 },
      ]);
    }
  });
});
