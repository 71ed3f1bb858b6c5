#!/usr/bin/env node
// Runs the TypeScript shipper through tsx's loader, so a clone works after `npm ci` with no build step.
// On the PowerMTA box prefer the bundle: `npm run build` → dist/pmta-shipper.js (docs/shipper.md).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
await import('../shipper/cli.ts');
