/**
 * The architecture rules (docs/architecture.md "Allowed dependencies") as a checker over an
 * in-memory set of files, so the test can run it on the repository and on planted violations
 * alike: where each area may import from, a pure core, no product file importing tests, the
 * shipper importing only the envelope wire format and the record splitter from functions/, and no
 * import cycle.
 */
import { posix } from 'node:path';

/** Repository-relative path (posix) → source text. */
type FileSet = ReadonlyMap<string, string>;

interface ImportRef {
  specifier: string;
  /** `import type` / `export type`: erased at runtime, still a dependency of the design. */
  typeOnly: boolean;
}

interface Violation {
  file: string;
  rule: string;
  detail: string;
}

/** package.json "imports": `#core/*` → `functions/core/*`, ... */
type Aliases = ReadonlyArray<readonly [prefix: string, target: string]>;

const PRODUCT_ROOTS = ['functions/', 'shipper/', 'infra/', 'bin/', 'scripts/'] as const;
const isProduct = (file: string) => PRODUCT_ROOTS.some((r) => file.startsWith(r));

/** Comments removed, string contents kept (specifiers live in strings). Linear. */
function stripComments(text: string): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quote) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === quote) quote = '';
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i += 1;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 1;
    } else {
      if (c === "'" || c === '"' || c === '`') quote = c;
      out += c;
    }
  }
  return out;
}

const STATIC_IMPORT =
  /(?:^|[;\n])\s*(import|export)\s+(type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"\n]+)['"]/g;
const DYNAMIC_IMPORT = /\bimport\(\s*['"]([^'"\n]+)['"]\s*\)/g;

function importsOf(text: string): ImportRef[] {
  const code = stripComments(text);
  const refs: ImportRef[] = [];
  for (const m of code.matchAll(STATIC_IMPORT)) refs.push({ specifier: m[3]!, typeOnly: Boolean(m[2]) });
  for (const m of code.matchAll(DYNAMIC_IMPORT)) refs.push({ specifier: m[1]!, typeOnly: false });
  return refs;
}

/** The repository file an import names, or undefined for a package or node: builtin. */
function resolveImport(from: string, specifier: string, aliases: Aliases): string | undefined {
  for (const [prefix, target] of aliases)
    if (specifier.startsWith(prefix)) return posix.normalize(target + specifier.slice(prefix.length));
  if (specifier.startsWith('.')) return posix.normalize(posix.join(posix.dirname(from), specifier));
  return undefined;
}

/** Which area a file belongs to, for the layer rules. */
function areaOf(file: string): string {
  const parts = file.split('/');
  if (parts[0] === 'functions') return `functions/${parts[1]?.endsWith('.ts') ? '' : parts[1]}`;
  return parts[0]!;
}

/**
 * Allowed imports between areas (docs/architecture.md): core ← adapters ← lambda, cli, sandbox;
 * the sandbox runs the lambda handlers and shares the CLI's io and config file; the CLI reaches
 * the sandbox only through its command; the shipper reaches functions/ only for the envelope wire
 * format; infra reads names, the table schema, the provider backoff bounds and the config; bin
 * starts the CLI and the shipper.
 * Tests and benches may import anything (but nothing imports them).
 */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  'functions/core': ['functions/core'],
  'functions/adapters': ['functions/core', 'functions/adapters'],
  'functions/lambda': ['functions/core', 'functions/adapters', 'functions/lambda'],
  'functions/cli': ['functions/core', 'functions/adapters', 'functions/cli', 'functions/sandbox/sandbox.ts'],
  'functions/sandbox': [
    'functions/core',
    'functions/adapters',
    'functions/lambda',
    'functions/sandbox',
    'functions/cli/cli-io.ts',
    'functions/cli/config-file.ts',
  ],
  // The envelope wire format, and the one CSV record splitter it shares with the reader (issue 12).
  shipper: [
    'shipper',
    'functions/core/envelope/envelope-wire.ts',
    'functions/core/accounting/record-splitter.ts',
  ],
  infra: [
    'infra',
    'functions/core',
    'functions/adapters/dynamodb/table-schema.ts',
    // The act function's timeout covers the provider call policy's longest backoff.
    'functions/adapters/providers/provider-call-policy.ts',
    'functions/lambda/env.ts',
    'functions/lambda/metric-names.ts',
    'functions/cli/config-file.ts',
  ],
  bin: ['functions/cli/main.ts', 'shipper/cli.ts'],
  scripts: ['scripts'],
};

const allowedTarget = (area: string, target: string): boolean =>
  (ALLOWED[area] ?? []).some((a) => target === a || target.startsWith(`${a}/`));

/** Only the composition root of the Lambda functions names adapters; their orchestration sees ports. */
const LAMBDA_ROOT = 'functions/lambda/wiring.ts';
const namesAdapterOutsideRoot = (file: string, target: string): boolean =>
  file.startsWith('functions/lambda/') && file !== LAMBDA_ROOT && target.startsWith('functions/adapters/');

/** What the pure core may not use (docs/architecture.md "The core is pure"). */
const CORE_FORBIDDEN: ReadonlyArray<readonly [RegExp, string]> = [
  [/from\s+['"]@aws-sdk\//, 'aws-sdk import'],
  [/from\s+['"]@aws-lambda-powertools\//, 'Powertools import'],
  [
    /from\s+['"](node:)?(fs|fs\/promises|http|https|http2|net|child_process|dgram|tls|os|zlib|stream|stream\/promises|crypto|worker_threads)['"]/,
    'I/O or native module import (fs, http, net, zlib, stream, crypto, worker_threads, ...)',
  ],
  [/from\s+['"]better-sqlite3['"]/, 'sqlite import'],
  [/process\.env/, 'process.env'],
  [/Date\.now\(/, 'Date.now()'],
  [/new Date\(\)/, 'new Date() (current time)'],
  [/Math\.random\(/, 'Math.random()'],
  [/\bfetch\(/, 'fetch()'],
  [/console\./, 'console logging'],
];

function corePurity(file: string, text: string): Violation[] {
  if (!file.startsWith('functions/core/')) return [];
  const code = stripComments(text);
  return CORE_FORBIDDEN.filter(([re]) => re.test(code)).map(([, what]) => ({
    file,
    rule: 'pure core',
    detail: what,
  }));
}

/** Import edges between repository files (packages left out). */
function importGraph(files: FileSet, aliases: Aliases): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, text] of files) {
    const targets = importsOf(text)
      .map((r) => resolveImport(file, r.specifier, aliases))
      .filter((t): t is string => t !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

function layerRules(graph: Map<string, string[]>): Violation[] {
  const out: Violation[] = [];
  for (const [file, targets] of graph) {
    if (!isProduct(file)) continue;
    const area = areaOf(file);
    for (const target of targets) {
      if (target.startsWith('test/')) out.push({ file, rule: 'product imports test', detail: target });
      else if (!allowedTarget(area, target))
        out.push({ file, rule: `${area} may not import ${areaOf(target)}`, detail: target });
      else if (namesAdapterOutsideRoot(file, target))
        out.push({ file, rule: 'lambda orchestration imports an adapter', detail: target });
    }
  }
  return out;
}

/** Every import cycle (Tarjan's strongly connected components; self-imports included). */
function importCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const cycles: string[][] = [];
  let next = 0;
  const visit = (node: string): void => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const to of graph.get(node) ?? []) {
      if (!graph.has(to)) continue;
      if (!index.has(to)) {
        visit(to);
        low.set(node, Math.min(low.get(node)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(node, Math.min(low.get(node)!, index.get(to)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== node);
    if (component.length > 1 || (graph.get(node) ?? []).includes(node)) cycles.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return cycles;
}

/** All rules over a file set. */
function checkArchitecture(files: FileSet, aliases: Aliases): Violation[] {
  const graph = importGraph(files, aliases);
  return [
    ...[...files].flatMap(([file, text]) => corePurity(file, text)),
    ...layerRules(graph),
    ...importCycles(graph).map((cycle) => ({
      file: cycle[0]!,
      rule: 'import cycle',
      detail: cycle.join(' → '),
    })),
  ];
}

/** package.json "imports" as prefix pairs (`#core/` → `functions/core/`). */
function aliasesFrom(imports: Record<string, string>): Aliases {
  return Object.entries(imports).map(
    ([key, target]) => [key.replace(/\*$/, ''), target.replace(/^\.\//, '').replace(/\*$/, '')] as const,
  );
}

export type { Aliases, FileSet, ImportRef, Violation };
export { aliasesFrom, checkArchitecture, importCycles, importGraph, importsOf };
