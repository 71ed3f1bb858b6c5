/**
 * `pmta-bounce serve [--config F] [--state F] [--listen HOST:PORT]`: the one-click unsubscribe
 * endpoint (RFC 8058) on the box, behind a TLS reverse proxy (docs/unsubscribe.md). Prints
 * `listening http://HOST:PORT` when ready; SIGINT/SIGTERM stop it after the running provider pass.
 */
import { parseArgs } from 'node:util';
import { aes256GcmCipher } from '#adapters/crypto/aes-256-gcm.ts';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { WindowRateCounter } from '#adapters/in-process/window-rate-counter.ts';
import type { Config } from '#core/config-schema.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import { createLocalRuntime, DEFAULT_STATE_PATH, type LocalRuntime } from './local-runtime.ts';
import { createOneClickServer } from './one-click-server.ts';
import { createOutboxDrainer } from './outbox-drainer.ts';

const USAGE =
  'usage: pmta-bounce serve [--config F] [--state F] [--listen HOST:PORT]  (default 127.0.0.1:8025)';
const DEFAULT_LISTEN = '127.0.0.1:8025';
/** A request within this many ms means "busy": provider calls wait (outbox-drainer.ts). */
const BUSY_MS = 50;

interface ServeOptions {
  /** Resolves to stop the server (tests); default: SIGINT or SIGTERM. */
  stopSignal?: Promise<void> | undefined;
}

function parseListen(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':');
  const host = value.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
  const port = Number(value.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--listen ${JSON.stringify(value)}: expected HOST:PORT`);
  return { host, port };
}

function signalStop(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}

function serverDeps(config: Config, runtime: LocalRuntime, io: CliIo, onEnqueued: () => void) {
  const { signing, oneClick } = config.unsubscribe;
  const log = (line: string) => io.stderr.write(`${line}\n`);
  return {
    settings: {
      keys: signing?.keys,
      hmac: hmacSha256,
      cipher: aes256GcmCipher,
      listNames: oneClick.listNames,
      router: runtime.router,
      scope: config.policy.unsubscribeScope,
    },
    limits: { windowMs: oneClick.rateLimit.windowSeconds * 1000, ...oneClick.rateLimit },
    trustForwardedFor: oneClick.trustForwardedFor,
    store: runtime.store,
    outbox: runtime.outbox,
    rateCounter: new WindowRateCounter(),
    onEnqueued,
    now: io.now,
    log,
  };
}

async function serveCommand(argv: string[], io: CliIo, options: ServeOptions = {}): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      state: { type: 'string' },
      listen: { type: 'string', default: DEFAULT_LISTEN },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const listen = parseListen(values.listen ?? DEFAULT_LISTEN);
  const config = loadConfigFile(values.config, io.env).config;
  const statePath = values.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  const runtime = createLocalRuntime(config, { statePath, dryRun: false });
  const log = (line: string) => io.stderr.write(`${line}\n`);
  let lastRequestAt = 0;
  const busy = () => Date.now() - lastRequestAt < BUSY_MS;
  const drainer = createOutboxDrainer({ ...runtime, now: io.now, log, busy });
  const server = createOneClickServer(serverDeps(config, runtime, io, () => drainer.kick()));
  server.on('request', () => {
    lastRequestAt = Date.now();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, resolve);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  // Actions left by an earlier run (or a crash) go out now.
  drainer.kick();
  io.stdout.write(`listening http://${host}:${port}\n`);
  await (options.stopSignal ?? signalStop());
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await closed;
  await drainer.stop();
  await runtime.close();
  return ExitCode.ok;
}

export type { ServeOptions };
export { parseListen, serveCommand };
