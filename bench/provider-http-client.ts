/**
 * The providers' HTTP client (functions/adapters/providers/http-fetch.ts, node:http keep-alive)
 * against the global fetch (undici), in one run: the same N signed-looking form PUTs, C in flight,
 * to a loopback server in a child process answering after --latency-ms. Prints the client's CPU
 * per request (user + system of this process, which runs only the client), wall time and the TCP
 * connections the server accepted. Alternates the two clients (A B A B) to even out the load.
 *
 *   node --import tsx bench/provider-http-client.ts [--requests 3200] [--concurrency 16] [--latency-ms 2]
 */
import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createHttpFetch, type ProviderFetch } from '#providers/http-fetch.ts';

/** Child mode: the server. Reports its port, then its connection count when asked. */
function serve(latencyMs: number): void {
  let connections = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
        res.end('{"status":"success"}');
      }, latencyMs),
    );
  });
  server.on('connection', () => {
    connections += 1;
  });
  // Loopback only, ephemeral port.
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('message', (m) => {
    if (m === 'connections') process.send?.({ connections });
    if (m === 'exit') process.exit(0);
  });
}

const HEADERS = {
  accept: 'application/json',
  'x-api-key': 'bench-public-key',
  'x-mw-public-key': 'bench-public-key',
  'x-mw-timestamp': '1765000000',
  'x-mw-signature': '0123456789abcdef0123456789abcdef01234567',
  'content-type': 'application/x-www-form-urlencoded',
};

async function drive(fetch: ProviderFetch, url: string, requests: number, concurrency: number) {
  let next = 0;
  const cpu = process.cpuUsage();
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next++ < requests) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 10_000);
      const response = await fetch(url, {
        method: 'PUT',
        headers: HEADERS,
        body: `EMAIL=sub${next}%40example.com`,
        signal: controller.signal,
        redirect: 'manual',
      });
      await response.text();
      clearTimeout(timer);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(cpu);
  return { ms: performance.now() - started, cpuUsPerRequest: (used.user + used.system) / requests };
}

function ask<T>(child: ReturnType<typeof fork>, message?: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    if (message) child.send(message);
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      requests: { type: 'string', default: '3200' },
      concurrency: { type: 'string', default: '16' },
      'latency-ms': { type: 'string', default: '2' },
      serve: { type: 'boolean', default: false },
    },
  });
  const latencyMs = Number(values['latency-ms']);
  if (values.serve) return serve(latencyMs);
  const requests = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const clients: Array<[string, () => ProviderFetch]> = [
    ['global fetch (undici)', () => globalThis.fetch.bind(globalThis)],
    ['http-fetch.ts (node:http keep-alive)', createHttpFetch],
  ];
  console.log(
    `${requests} PUTs, ${concurrency} in flight, server answers after ${latencyMs} ms; load average ${loadavg()[0]!.toFixed(1)}`,
  );
  console.log('| client | wall ms | CPU µs per request | connections opened |');
  console.log('|---|---:|---:|---:|');
  for (let round = 0; round < 2; round++) {
    for (const [name, make] of clients) {
      // A fresh server per run, so connections are counted per client.
      const child = fork(import.meta.filename, ['--serve', '--latency-ms', String(latencyMs)], {
        execArgv: process.execArgv,
      });
      const { port } = await ask<{ port: number }>(child);
      const r = await drive(
        make(),
        `http://127.0.0.1:${port}/api/lists/subscribers/x`,
        requests,
        concurrency,
      );
      const { connections } = await ask<{ connections: number }>(child, 'connections');
      child.send('exit');
      console.log(`| ${name} | ${r.ms.toFixed(0)} | ${r.cpuUsPerRequest.toFixed(0)} | ${connections} |`);
    }
  }
}

await main();
