#!/usr/bin/env node
// Bundles the shipper into one file that plain `node` runs on the PowerMTA box (no node_modules).
import { bundleShipper } from './shipper-bundle.js';

const outfile = 'dist/pmta-shipper.js';
await bundleShipper(outfile);
process.stdout.write(`built ${outfile}\n`);
