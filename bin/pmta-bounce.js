#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=2 --v8-pool-size=1
// 2 MB semi-spaces without allocation-site pretenuring (set below): `process` decides 250 records
// at a time, whose objects die young instead of being promoted or allocated old (with pretenuring
// on, GC took 1.1-1.7 s of a 300k run); the old generation grows by 30 % of what survived the last
// full GC, not up to 4x (full GCs of a ~15 MB live heap take 2-5 ms). One malloc arena and one V8
// helper thread: 0-14 MB less at the same CPU. Together: peak RSS of a 1M-record run under 100 MB
// (docs/benchmarks.md, "Peak RSS at 1M" and "Startup and the RSS floor").
// Starts from the esbuild bundle in dist/cli (built by `npm ci`'s prepare step or `npm run build`)
// while every source it was built from is unchanged (size and mtime in its manifest): half the
// startup time and memory of the tsx loader (docs/benchmarks.md). Otherwise, or with
// PMTA_BOUNCE_FROM_SOURCE=1, it runs the TypeScript sources through tsx's loader, so an edit under
// functions/ takes effect at once and a clone without a build still works: tsx stays a runtime
// dependency (Node 20 has no type stripping); see README, "Using it".
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';

// Set here rather than in the shebang: a V8 release without these flags ignores them instead of
// refusing to start.
setFlagsFromString('--no-allocation-site-pretenuring');
setFlagsFromString('--heap-growing-percent=30');

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The sandbox starts the Lambda handlers and the emulators from their source paths. */
const SOURCE_ONLY = new Set(['sandbox', 'redrive']);

/** The bundle's entry if it was built from the sources as they are now, else undefined. */
function freshBundle() {
  try {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'dist/cli/manifest.json'), 'utf8'));
    for (const [path, size, mtimeMs] of manifest.inputs) {
      const stat = statSync(join(ROOT, path), { throwIfNoEntry: false });
      if (stat?.size !== size || stat.mtimeMs !== mtimeMs) return undefined;
    }
    return pathToFileURL(join(ROOT, 'dist/cli', manifest.entry)).href;
  } catch {
    return undefined; // no bundle, or a manifest this bin cannot read
  }
}

const argv = process.argv.slice(2);
const bundle =
  process.env.PMTA_BOUNCE_FROM_SOURCE === '1' || SOURCE_ONLY.has(argv[0]) ? undefined : freshBundle();
if (!bundle) {
  const { register } = await import('tsx/esm/api');
  register();
}
const { main } = await import(bundle ?? '../functions/cli/main.ts');
process.exitCode = await main(argv);
