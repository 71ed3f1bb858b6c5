/**
 * The plumbing the provider fakes share: a node:http server on 127.0.0.1, port 0 only, with
 * request counters per endpoint, an in-flight gauge, injectable latency and faults (a status such as
 * 503 or 429 with Retry-After, or a hang), before or after the request took effect.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  /** performance.now() at the first request's arrival (undefined before any): startup in benchmarks. */
  firstRequestAt(): number | undefined;
  /** TCP connections accepted so far: with keep-alive, about the most requests in flight, not one per request. */
  connectionsOpened(): number;
  latencyMs: number;
  inject(fault: Fault): void;
  close(): Promise<void>;
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

/** node:http on 127.0.0.1 with routing, injected faults, latency and request counts. */
class FakeHttpServer implements FakeServer {
  url = '';
  readonly requests = new Map<string, number>();
  latencyMs = 0;
  readonly #faults: Fault[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #server: Server;
  #inFlight = 0;
  #maxInFlight = 0;
  #total = 0;
  #connections = 0;
  #firstAt: number | undefined;
  #lastAt = 0;

  constructor(private readonly route: (request: FakeRequest) => FakeRoute) {
    this.#server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => void this.#handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
    this.#server.on('connection', (socket) => {
      this.#connections += 1;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  count(endpoint: string): number {
    return this.requests.get(endpoint) ?? 0;
  }

  totalRequests(): number {
    return this.#total;
  }

  maxInFlight(): number {
    return this.#maxInFlight;
  }

  activeMs(): number {
    return this.#firstAt === undefined ? 0 : this.#lastAt - this.#firstAt;
  }

  firstRequestAt(): number | undefined {
    return this.#firstAt;
  }

  connectionsOpened(): number {
    return this.#connections;
  }

  inject(fault: Fault): void {
    this.#faults.push({ ...fault });
  }

  close(): Promise<void> {
    return new Promise<void>((resolve) => {
      for (const s of this.#sockets) s.destroy();
      this.#server.close(() => resolve());
    });
  }

  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      // Loopback only, ephemeral port: never reachable from elsewhere, never clashes.
      this.#server.listen(0, '127.0.0.1', () => {
        const { port } = this.#server.address() as AddressInfo;
        this.url = `http://127.0.0.1:${port}`;
        resolve(this);
      });
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse, body: string): Promise<void> {
    this.#firstAt ??= performance.now();
    this.#inFlight += 1;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    this.#total += 1;
    let settled = false;
    res.on('close', () => {
      if (settled) return;
      settled = true;
      this.#inFlight -= 1;
    });
    try {
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        url: new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`),
        headers: req.headers,
        body,
      };
      const matched = this.route(request);
      this.requests.set(matched.endpoint, this.count(matched.endpoint) + 1);
      if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
      const before = this.#takeFault(matched.endpoint, 'before');
      if (before?.hang) return;
      if (before) return this.#send(res, faultReply(before));
      const reply = matched.run();
      const after = this.#takeFault(matched.endpoint, 'after');
      if (after?.hang) return;
      this.#send(res, after ? faultReply(after) : reply);
    } catch (error) {
      this.#send(res, { status: 500, body: `fake server error: ${String(error)}` });
    }
  }

  #takeFault(endpoint: string, phase: 'before' | 'after'): Fault | undefined {
    const index = this.#faults.findIndex(
      (f) => (f.phase ?? 'before') === phase && (f.endpoint === undefined || f.endpoint === endpoint),
    );
    if (index < 0) return undefined;
    const fault = this.#faults[index]!;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) this.#faults.splice(index, 1);
    return fault;
  }

  #send(res: ServerResponse, reply: FakeReply): void {
    res.writeHead(reply.status, reply.headers ?? {});
    res.end(reply.body);
    this.#lastAt = performance.now();
  }
}

function startFakeHttpServer(route: (request: FakeRequest) => FakeRoute): Promise<FakeServer> {
  return new FakeHttpServer(route).listen();
}

export type { FakeReply, FakeRequest, FakeRoute, FakeServer, Fault };
export { startFakeHttpServer };
