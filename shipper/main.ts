/**
 * pmta-shipper: PowerMTA accounting pipe → durable spool → SQS. Parses the arguments and runs the
 * Shipper (shipper.ts: its phases read, pack, send, drain); each part lives in its own file.
 */
import { parseShipperArgs, USAGE } from './args.ts';
import { Shipper } from './shipper.ts';
import { createShipperLog } from './stats.ts';

const EXIT = { ok: 0, usage: 2, fatal: 1 } as const;

interface MainDeps {
  stdinFd?: number;
  env?: NodeJS.ProcessEnv;
}

async function main(argv: string[], deps: MainDeps = {}): Promise<number> {
  const env = deps.env ?? process.env;
  const parsed = parseShipperArgs(argv, env);
  if (!parsed.ok) {
    if ('help' in parsed) {
      process.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    process.stderr.write(`pmta-shipper: ${parsed.error}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  const log = createShipperLog(parsed.args.logFile);
  try {
    await new Shipper(parsed.args, log, { stdinFd: deps.stdinFd ?? 0, env }).run();
    return EXIT.ok;
  } catch (error) {
    log.line('error', `fatal: ${(error as Error).stack ?? String(error)}`);
    return EXIT.fatal;
  }
}

export { main };
