/**
 * Entry point of `pmta-shipper` (bundled to dist/pmta-shipper.js; bin/pmta-shipper.js runs it via
 * tsx). The same module is the stdin spooler's worker entry, so the bundle stays one file; the
 * imports are dynamic so the worker never loads the SQS client.
 */
import { isMainThread } from 'node:worker_threads';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
if (isMainThread) {
  const { main } = await import('./main.ts');
  const code = await main(process.argv.slice(2), { workerEntry: new URL(import.meta.url) });
  // Exit explicitly: the spooler thread may be parked in read(2) on the pipe.
  process.exit(code);
} else {
  const { runStdinSpooler } = await import('./stdin-spooler.ts');
  await runStdinSpooler();
}
