// How the shipper is bundled into one file that plain `node` runs on the PowerMTA box (no
// node_modules). Shared by scripts/build.js and the benchmarks that build variants of it.
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { build } from 'esbuild';

/** Bundles shipper/cli.ts into `outfile` (`plugins`: a benchmark's stand-in modules). */
async function bundleShipper(outfile, plugins = []) {
  mkdirSync(dirname(outfile), { recursive: true });
  await build({
    entryPoints: ['shipper/cli.ts'],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    sourcemap: false,
    legalComments: 'none',
    logLevel: 'warning',
    plugins,
    // Small young generation: the shipper's data lives on disk, so a large heap only costs RSS. One
    // malloc arena and one V8 helper thread: measured 6-8 MB less peak RSS at the same speed.
    banner: {
      js: [
        '#!/usr/bin/env -S MALLOC_ARENA_MAX=1 node --max-semi-space-size=1 --max-old-space-size=48 --v8-pool-size=1',
        "import { createRequire as __pmtaCreateRequire } from 'node:module';",
        'const require = __pmtaCreateRequire(import.meta.url);',
      ].join('\n'),
    },
  });
  chmodSync(outfile, 0o755);
}

export { bundleShipper };
