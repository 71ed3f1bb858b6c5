/**
 * Libraries the hand-written code is measured against, loaded from .scratch/bench-libs (gitignored),
 * never from the project's dependencies: a library joins package.json only when its numbers say so
 * (docs/benchmarks.md). Install them with:
 *
 *   npm install --prefix .scratch/bench-libs fast-xml-parser@5.12.1 p-retry@7.1.1 bottleneck@2.19.5
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/** Outside bench/ and test/: the dependency checks read those trees, and these are not ours. */
const LIBS = join(import.meta.dirname, '../.scratch/bench-libs');
const INSTALL =
  'npm install --prefix .scratch/bench-libs fast-xml-parser@5.12.1 p-retry@7.1.1 bottleneck@2.19.5';

/** Loads `name` from .scratch/bench-libs (ESM or CommonJS); says how to install it when missing. */
async function loadLibrary<T>(name: string): Promise<T> {
  if (!existsSync(join(LIBS, 'node_modules', name))) throw new Error(`${name} is not installed: ${INSTALL}`);
  const resolved = createRequire(join(LIBS, 'package.json')).resolve(name);
  return (await import(pathToFileURL(resolved).href)) as T;
}

/** The installed version of `name`. */
function libraryVersion(name: string): string {
  const manifest = join(LIBS, 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** Minified bundle size of `source` (an entry module's text), resolving imports from `resolveDir`. */
async function minifiedKb(source: string, resolveDir: string): Promise<string> {
  const out = await build({
    stdin: { contents: source, resolveDir, loader: 'ts' },
    bundle: true,
    minify: true,
    platform: 'node',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    // The config schema's validator is shared by every adapter: not the code being compared.
    external: ['zod'],
  });
  return `${((out.outputFiles[0]?.contents.length ?? 0) / 1024).toFixed(1)} KB`;
}

export { LIBS, libraryVersion, loadLibrary, minifiedKb };
