/**
 * A TCP proxy on 127.0.0.1 in front of any local server (fauxqs, dynalite, a provider fake), for
 * fault injection: `down()` closes the listener and cuts every open connection (the server is
 * unreachable: connection refused), `up()` listens again on the same port.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

interface TcpProxy {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  port: number;
  isUp(): boolean;
  down(): Promise<void>;
  up(): Promise<void>;
  stop(): Promise<void>;
}

async function startTcpProxy(target: string): Promise<TcpProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const onConnection = (client: Socket): void => {
    const server = connect({ host: upstream.hostname, port: Number(upstream.port) });
    track(client);
    track(server);
    client.on('error', () => server.destroy());
    server.on('error', () => client.destroy());
    client.pipe(server);
    server.pipe(client);
  };
  let server: Server | undefined;
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        server = s;
        const a = s.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (!s) return resolve();
      s.close(() => resolve());
    });
  const port = await listen(0);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    isUp: () => server !== undefined,
    down: close,
    async up() {
      if (server) return;
      // The port was ours a moment ago; retry briefly if the OS has not released it yet.
      for (let attempt = 0; attempt < 20; attempt += 1) {
        try {
          await listen(port);
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      throw new Error(`proxy could not listen on ${port} again`);
    },
    stop: close,
  };
}

export type { TcpProxy };
export { startTcpProxy };
