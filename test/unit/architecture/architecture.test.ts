/**
 * The fence around the design (docs/architecture.md): run the rules of import-rules.ts over the
 * repository, and over planted violations to show each rule can fail.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aliasesFrom, checkArchitecture, importCycles, importsOf } from './import-rules.ts';

const ROOT = join(import.meta.dirname, '../../..');
const AREAS = ['functions', 'shipper', 'infra', 'bin', 'scripts', 'test', 'bench'];
const aliases = aliasesFrom(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).imports);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.name === 'node_modules' || e.name === 'fixtures') return [];
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return /\.(ts|js)$/.test(e.name) ? [path] : [];
  });
}

function repository(): Map<string, string> {
  const files = new Map<string, string>();
  for (const area of AREAS)
    for (const path of sources(join(ROOT, area)))
      files.set(relative(ROOT, path).split('\\').join('/'), readFileSync(path, 'utf8'));
  return files;
}

describe('the repository keeps its architecture', () => {
  const files = repository();
  const found = checkArchitecture(files, aliases).map((v) => `${v.rule}: ${v.detail}`);

  it('reads the whole tree', () => {
    expect([...files.keys()].filter((f) => f.startsWith('functions/core/')).length).toBeGreaterThan(20);
    expect(files.has('shipper/main.ts')).toBe(true);
  });

  it('breaks no rule: pure core, allowed layers, no test imports in product code, no cycle', () => {
    expect(found).toEqual([]);
  });
});

/** A small tree that keeps every rule; each planted case adds one violation to it. */
const CLEAN: ReadonlyArray<readonly [string, string]> = [
  ['functions/core/ports.ts', 'export interface Log { info(m: string): void }\n'],
  ['functions/core/envelope/envelope-wire.ts', 'export const WIRE = 1;\n'],
  ['functions/adapters/sqs/queue.ts', "import type { Log } from '#core/ports.ts';\n"],
  [
    'functions/lambda/wiring.ts',
    "import { q } from '#adapters/sqs/queue.ts';\nimport type { Log } from '../core/ports.ts';\n",
  ],
  [
    'shipper/main.ts',
    "import { WIRE } from '../functions/core/envelope/envelope-wire.ts';\nimport { gzip } from 'node:zlib';\n",
  ],
  ['test/unit/a.test.ts', "import { WIRE } from '#core/envelope/envelope-wire.ts';\n"],
];

const PLANTED: ReadonlyArray<{ name: string; file: string; text: string; rule: string }> = [
  {
    name: 'a relative adapter import from the core',
    file: 'functions/core/decide/x.ts',
    text: "import { q } from '../../adapters/sqs/queue.ts';\n",
    rule: 'functions/core may not import functions/adapters',
  },
  {
    name: 'an aliased adapter import from the core',
    file: 'functions/core/x.ts',
    text: "import { q } from '#adapters/sqs/queue.ts';\n",
    rule: 'functions/core may not import functions/adapters',
  },
  {
    name: 'node:zlib in the core',
    file: 'functions/core/z.ts',
    text: "import { gzipSync } from 'node:zlib';\n",
    rule: 'pure core',
  },
  {
    name: 'node:stream in the core',
    file: 'functions/core/s.ts',
    text: "import { Readable } from 'node:stream';\n",
    rule: 'pure core',
  },
  {
    name: 'crypto in the core',
    file: 'functions/core/c.ts',
    text: "import { createHash } from 'crypto';\n",
    rule: 'pure core',
  },
  {
    name: 'worker_threads in the core',
    file: 'functions/core/w.ts',
    text: "import { Worker } from 'node:worker_threads';\n",
    rule: 'pure core',
  },
  {
    name: 'the clock in the core',
    file: 'functions/core/t.ts',
    text: 'export const t = () => Date.now();\n',
    rule: 'pure core',
  },
  {
    name: '#test/ from product code',
    file: 'functions/sandbox/x.ts',
    text: "import { f } from '#test/support/builders.ts';\n",
    rule: 'product imports test',
  },
  {
    name: 'test/ from the shipper',
    file: 'shipper/x.ts',
    text: "import { f } from '../test/support/builders.ts';\n",
    rule: 'product imports test',
  },
  {
    name: 'test/ from infra',
    file: 'infra/x.ts',
    text: "import { f } from '../test/support/builders.ts';\n",
    rule: 'product imports test',
  },
  {
    name: 'test/ from scripts',
    file: 'scripts/x.ts',
    text: "import { f } from '../test/support/builders.ts';\n",
    rule: 'product imports test',
  },
  {
    name: 'the shipper importing more than the wire format',
    file: 'shipper/y.ts',
    text: "import type { Log } from '../functions/core/ports.ts';\n",
    rule: 'shipper may not import functions/core',
  },
  {
    name: 'the shipper importing lambda code',
    file: 'shipper/z.ts',
    text: "import { q } from '../functions/lambda/wiring.ts';\n",
    rule: 'shipper may not import functions/lambda',
  },
  {
    name: 'lambda orchestration importing an adapter (only wiring.ts may)',
    file: 'functions/lambda/act/act.ts',
    text: "import { q } from '#adapters/sqs/queue.ts';\n",
    rule: 'lambda orchestration imports an adapter',
  },
  {
    name: 'an adapter importing lambda orchestration',
    file: 'functions/adapters/sqs/b.ts',
    text: "import { w } from '#lambda/wiring.ts';\n",
    rule: 'functions/adapters may not import functions/lambda',
  },
];

describe('the checker fails on planted violations', () => {
  it('finds nothing in the clean tree', () => {
    expect(checkArchitecture(new Map(CLEAN), aliases)).toEqual([]);
  });

  it.each(PLANTED)('$name', ({ file, text, rule }) => {
    const found = checkArchitecture(new Map([...CLEAN, [file, text]]), aliases);
    expect(found.map((v) => [v.file, v.rule])).toContainEqual([file, rule]);
  });

  it('an import cycle, even of types only', () => {
    const files = new Map([
      ...CLEAN,
      ['functions/core/a.ts', "import type { B } from './b.ts';\n"],
      ['functions/core/b.ts', "import type { C } from './c.ts';\n"],
      ['functions/core/c.ts', "import type { A } from './a.ts';\n"],
    ]);
    const found = checkArchitecture(files, aliases).filter((v) => v.rule === 'import cycle');
    expect(found.map((v) => v.detail)).toEqual([
      'functions/core/a.ts → functions/core/b.ts → functions/core/c.ts',
    ]);
  });

  it('finds each cycle once and a self-import', () => {
    const graph = new Map([
      ['a', ['b']],
      ['b', ['a']],
      ['c', ['c']],
      ['d', ['a']],
    ]);
    expect(importCycles(graph)).toEqual([['a', 'b'], ['c']]);
  });

  it('reads static, re-export, type-only and dynamic imports, not ones in comments', () => {
    const text = [
      "import { a } from './a.ts';",
      "import type { B } from '#core/b.ts';",
      "export { c } from './c.ts';",
      "import './side-effect.ts';",
      "const m = await import('./lazy.ts');",
      "// import { x } from './commented.ts';",
      "/* import { y } from './block.ts'; */",
    ].join('\n');
    expect(importsOf(text)).toEqual([
      { specifier: './a.ts', typeOnly: false },
      { specifier: '#core/b.ts', typeOnly: true },
      { specifier: './c.ts', typeOnly: false },
      { specifier: './side-effect.ts', typeOnly: false },
      { specifier: './lazy.ts', typeOnly: false },
    ]);
  });
});
