/**
 * The two emulators behind `pmta-bounce sandbox` and the integration tests, started from code on
 * 127.0.0.1 only (the fauxqs CLI binds 0.0.0.0: never use it), on a free port unless one is given.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';
import { buildApp } from 'fauxqs';

interface LocalServer {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';

async function startDynalite(port = 0): Promise<LocalServer> {
  // In memory; tables are ACTIVE at once so startup stays fast.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, HOST, () => resolve());
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    endpoint: `http://${HOST}:${bound}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

async function startFauxqs(port = 0): Promise<LocalServer> {
  const app = buildApp({ logger: false });
  await app.listen({ port, host: HOST });
  const { port: bound } = app.server.address() as AddressInfo;
  return { endpoint: `http://${HOST}:${bound}`, stop: () => app.close() };
}

export type { LocalServer };
export { startDynalite, startFauxqs };
