// Bundles the `pmta-bounce` CLI (functions/cli/main.ts) into dist/cli/ so the installed bin starts
// without the tsx loader (docs/benchmarks.md, "Startup"). Our own code is bundled; packages in
// node_modules stay imports (better-sqlite3's native module, zod, yaml, the AWS SDK load as usual).
// Commands load on demand as chunks, so `process` never parses the AWS SDK, the report page or the
// sandbox. The manifest lists every input with its size and mtime: bin/pmta-bounce.js runs the
// bundle only while all of them are unchanged, else the sources through tsx (a stale bundle never runs).
import { mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const MANIFEST = 'manifest.json';
/** Files that shape the bundle besides the sources esbuild reads: import aliases, compiler options, this. */
const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'scripts/cli-bundle.js'];

/** The sandbox starts the Lambda handlers and the emulators from their source paths: it stays on tsx. */
const sourceOnly = {
  name: 'sandbox-from-source',
  setup(build) {
    build.onResolve({ filter: /^#sandbox\// }, (args) => ({ path: args.path, external: true }));
  },
};

/** [path relative to root, size, mtimeMs] of each input: what the bin compares before using the bundle. */
function inputStamps(root, paths) {
  return paths.map((path) => {
    const stat = statSync(join(root, path));
    return [path, stat.size, stat.mtimeMs];
  });
}

/** Builds `<root>/dist/cli` from `<root>`'s sources: the number of inputs in its manifest, esbuild's metafile. */
async function bundleCli(root = ROOT) {
  const { build } = await import('esbuild');
  const outdir = join(root, 'dist/cli');
  const next = `${outdir}.next-${process.pid}`;
  rmSync(join(outdir, MANIFEST), { force: true }); // from here on the bin uses the sources
  rmSync(next, { recursive: true, force: true });
  const started = Date.now();
  const result = await build({
    absWorkingDir: root,
    // The audit thread's body runs in a worker: its own entry (functions/adapters/sqlite/sqlite-audit-thread.ts).
    entryPoints: ['functions/cli/main.ts', 'functions/adapters/sqlite/audit-thread-worker.ts'],
    outdir: next,
    entryNames: '[name]',
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: true,
    packages: 'external',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // Readable stack traces in bug reports; minifying saved no measurable startup time.
    minify: false,
    charset: 'utf8',
    metafile: true,
    legalComments: 'none',
    logLevel: 'warning',
    plugins: [sourceOnly],
  });
  const sources = Object.keys(result.metafile.inputs);
  const inputs = inputStamps(root, [...sources, ...BUILD_INPUTS]);
  const edited = inputs.find(([, , mtimeMs]) => mtimeMs >= started);
  if (edited) throw new Error(`${edited[0]} changed during the build: run it again`);
  writeFileSync(join(next, MANIFEST), `${JSON.stringify({ entry: 'main.js', inputs })}\n`);
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(dirname(outdir), { recursive: true });
  renameSync(next, outdir);
  return { inputs: inputs.length, metafile: result.metafile };
}

export { bundleCli, MANIFEST };
