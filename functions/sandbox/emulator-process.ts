/**
 * One sandbox emulator (dynalite or fauxqs) in its own process, so it gets a core of its own
 * instead of sharing the handlers' event loop. Started by sandbox-servers.ts:
 *
 *   node --import tsx functions/sandbox/emulator-process.ts dynalite|fauxqs [PORT]
 *
 * Listens on 127.0.0.1 only, prints one JSON line `{"endpoint":"http://127.0.0.1:N"}` when ready,
 * and stops on SIGTERM/SIGINT or when its stdin closes (the parent exited, even by a crash).
 */
import { startDynalite, startFauxqs } from './servers.ts';

const starters = { dynalite: startDynalite, fauxqs: startFauxqs } as const;

async function runEmulator(argv: readonly string[]): Promise<void> {
  const [kind, portText = '0'] = argv;
  const start = starters[kind as keyof typeof starters];
  const port = Number(portText);
  if (!start || !Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write('usage: emulator-process.ts dynalite|fauxqs [PORT]\n');
    process.exitCode = 2;
    return;
  }
  const server = await start(port);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    // Bounded: a server that will not close in 2 s is left behind with the exit.
    const timer = setTimeout(() => process.exit(0), 2000);
    void server.stop().finally(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdin.on('end', stop).on('close', stop).resume();
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint })}\n`);
}

await runEmulator(process.argv.slice(2));

export { runEmulator };
