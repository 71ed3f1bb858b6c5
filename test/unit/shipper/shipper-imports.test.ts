/**
 * The shipper runs alone on the PowerMTA box as one bundle without node_modules
 * (scripts/shipper-bundle.js): besides its own files and the envelope wire format (the layer rules
 * in test/unit/architecture/), it imports node built-ins only, never a package.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importsOf } from '../architecture/import-rules.ts';

const ROOT = join(import.meta.dirname, '../../..');

/** Imports of a package (neither a path, an alias nor a node built-in), as `file imports name`. */
function packageImports(files: ReadonlyArray<readonly [string, string]>): string[] {
  const found: string[] = [];
  for (const [file, text] of files)
    for (const { specifier } of importsOf(text)) {
      const local = specifier.startsWith('.') || specifier.startsWith('#');
      const builtin = specifier.startsWith('node:') || builtinModules.includes(specifier);
      if (!local && !builtin) found.push(`${file} imports ${specifier}`);
    }
  return found;
}

describe('the shipper bundle needs no package', () => {
  const files = readdirSync(join(ROOT, 'shipper'), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => {
      const path = join(e.parentPath, e.name);
      return [relative(ROOT, path), readFileSync(path, 'utf8')] as const;
    });

  it('reads the shipper', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('imports node built-ins and its own files only', () => {
    expect(packageImports(files)).toEqual([]);
  });

  it('catches a planted package import', () => {
    const planted = [
      ['shipper/a.ts', "import { gzip } from 'node:zlib';\nimport { z } from 'zod';\n"],
      ['shipper/b.ts', "import type { X } from '@aws-sdk/client-sqs';\nimport { y } from './a.ts';\n"],
    ] as const;
    expect(packageImports(planted)).toEqual([
      'shipper/a.ts imports zod',
      'shipper/b.ts imports @aws-sdk/client-sqs',
    ]);
  });
});
