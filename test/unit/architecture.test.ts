import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The core is pure: no I/O, no clock, no environment. This test is the fence. */
const CORE = join(import.meta.dirname, '../../functions/core');
const FORBIDDEN: Array<[RegExp, string]> = [
  [/from\s+['"]@aws-sdk\//, 'aws-sdk import'],
  [/from\s+['"](node:)?(fs|fs\/promises|http|https|net|child_process|dgram|tls|os)['"]/, 'I/O module import'],
  [/from\s+['"]#adapters\//, 'adapter import'],
  [/from\s+['"]#providers\//, 'provider import'],
  [/from\s+['"]better-sqlite3['"]/, 'sqlite import'],
  [/process\.env/, 'process.env'],
  [/Date\.now\(/, 'Date.now()'],
  [/new Date\(\)/, 'new Date() (current time)'],
  [/Math\.random\(/, 'Math.random()'],
  [/\bfetch\(/, 'fetch()'],
  [/console\./, 'console logging'],
];

function coreFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? coreFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('functions/core is pure', () => {
  const files = coreFiles(CORE);
  it('has files to check', () => {
    expect(files.length).toBeGreaterThan(3);
  });
  it.each(files.map((f) => ({ file: f.slice(CORE.length + 1), path: f })))(
    '$file does no I/O',
    ({ path }) => {
      const text = readFileSync(path, 'utf8');
      const found = FORBIDDEN.filter(([re]) => re.test(text)).map(([, what]) => what);
      expect(found).toEqual([]);
    },
  );
});
