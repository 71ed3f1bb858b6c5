#!/usr/bin/env -S node --max-semi-space-size=2
// (A small young generation keeps RSS flat on multi-million-line files at no measurable cost.)
// Runs the TypeScript CLI through tsx's loader, so a clone works after `npm ci` with no build step.
// tsx is therefore a runtime dependency (Node 20 has no type stripping); see README, "Using it".
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { register } = await import('tsx/esm/api');
register();
const { main } = await import('../functions/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
