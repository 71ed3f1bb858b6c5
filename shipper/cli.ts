/**
 * Entry point of `pmta-shipper` (bundled to dist/pmta-shipper.js; bin/pmta-shipper.js runs it via
 * tsx).
 */
import { main } from './main.ts';

const code = await main(process.argv.slice(2));
// Exit explicitly: nothing else should keep the process, and stdin may still be open.
process.exit(code);
