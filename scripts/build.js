#!/usr/bin/env node
// `npm run build`: the shipper as one file that plain `node` runs on the PowerMTA box (no
// node_modules), and the CLI bundle the installed `pmta-bounce` starts from (dist/cli).
// `node scripts/build.js cli` builds only the CLI: `npm ci` runs it (the `prepare` script); an
// install without dev dependencies (no esbuild) skips it and the bin runs the sources through tsx.
import { bundleCli } from './cli-bundle.js';

const only = process.argv[2];
if (only !== 'cli') {
  const { bundleShipper } = await import('./shipper-bundle.js');
  const outfile = 'dist/pmta-shipper.js';
  await bundleShipper(outfile);
  process.stdout.write(`built ${outfile}\n`);
}
try {
  const { inputs } = await bundleCli();
  process.stdout.write(`built dist/cli/main.js (${inputs} inputs in dist/cli/manifest.json)\n`);
} catch (error) {
  if (only !== 'cli' || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
  process.stdout.write('esbuild not installed: no CLI bundle, pmta-bounce runs from the sources (tsx)\n');
}
