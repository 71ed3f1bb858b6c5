/**
 * The plumbing the provider fakes share: a node:http server on 127.0.0.1, port 0 only, with
 * request counters per endpoint, an in-flight gauge, injectable latency and faults (a status such as
 * 503 or 429 with Retry-After, or a hang), before or after the request took effect.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

interface FakeReply {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

interface FakeRoute {
  /** Name for counters and fault targeting, e.g. "PUT unsubscribe-by-email-from-all-lists". */
  endpoint: string;
  run(): FakeReply;
}

interface FakeRequest {
  method: string;
  url: URL;
  headers: IncomingMessage['headers'];
  body: string;
}

interface Fault {
  /** Only requests to this endpoint; all endpoints when absent. */
  endpoint?: string;
  /** `before`: nothing happens at the fake; `after`: the effect happens, the answer is lost. */
  phase?: 'before' | 'after';
  status?: number;
  retryAfter?: string;
  /** Never answer (the client must time out). */
  hang?: boolean;
  /** How many requests this fault hits; default 1. */
  times?: number;
}

interface FakeServer {
  url: string;
  requests: Map<string, number>;
  /** Count of requests to one endpoint, 0 if none. */
  count(endpoint: string): number;
  totalRequests(): number;
  maxInFlight(): number;
  /** ms from the first request's arrival to the last answer sent (0 before any): throughput windows. */
  activeMs(): number;
  latencyMs: number;
  inject(fault: Fault): void;
  close(): Promise<void>;
}

function startFakeHttpServer(route: (request: FakeRequest) => FakeRoute): Promise<FakeServer> {
  const requests = new Map<string, number>();
  const faults: Fault[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let maxInFlight = 0;
  let total = 0;
  let firstAt: number | undefined;
  let lastAt = 0;

  function takeFault(endpoint: string, phase: 'before' | 'after'): Fault | undefined {
    const index = faults.findIndex(
      (f) => (f.phase ?? 'before') === phase && (f.endpoint === undefined || f.endpoint === endpoint),
    );
    if (index < 0) return undefined;
    const fault = faults[index]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) faults.splice(index, 1);
    return fault;
  }

  function send(res: ServerResponse, reply: FakeReply): void {
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body);
    lastAt = performance.now();
  }

  function faultReply(fault: Fault): FakeReply {
    const status = fault.status ?? 503;
    return {
      status,
      headers: {
        'content-type': 'text/html',
        ...(fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter }),
      },
      body: `<html><body>${status}</body></html>`,
    };
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        firstAt ??= performance.now();
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        total += 1;
        let settled = false;
        const done = () => {
          if (settled) return;
          settled = true;
          inFlight -= 1;
        };
        res.on('close', done);
        try {
          const request: FakeRequest = {
            method: req.method ?? 'GET',
            url: new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`),
            headers: req.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          };
          const matched = route(request);
          requests.set(matched.endpoint, (requests.get(matched.endpoint) ?? 0) + 1);
          if (api.latencyMs > 0) await new Promise((r) => setTimeout(r, api.latencyMs));
          const before = takeFault(matched.endpoint, 'before');
          if (before?.hang) return;
          if (before) return send(res, faultReply(before));
          const reply = matched.run();
          const after = takeFault(matched.endpoint, 'after');
          if (after?.hang) return;
          if (after) return send(res, faultReply(after));
          send(res, reply);
        } catch (error) {
          send(res, { status: 500, body: `fake server error: ${String(error)}` });
        }
      })();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  const api: FakeServer = {
    url: '',
    requests,
    count: (endpoint) => requests.get(endpoint) ?? 0,
    totalRequests: () => total,
    maxInFlight: () => maxInFlight,
    activeMs: () => (firstAt === undefined ? 0 : lastAt - firstAt),
    latencyMs: 0,
    inject: (fault) => {
      faults.push({ ...fault });
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };

  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // Loopback only, ephemeral port: never reachable from elsewhere, never clashes.
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      api.url = `http://127.0.0.1:${port}`;
      resolve(api);
    });
  });
}

export type { FakeReply, FakeRequest, FakeRoute, FakeServer, Fault };
export { startFakeHttpServer };
