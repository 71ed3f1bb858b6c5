/** Entry point of `pmta-shipper` (bundled to dist/pmta-shipper.js; bin/pmta-shipper.js runs it via tsx). */
import { main } from './main.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const code = await main(process.argv.slice(2));
// Exit explicitly: a read(2) parked on the pipe in the thread pool would otherwise keep us alive.
process.exit(code);
