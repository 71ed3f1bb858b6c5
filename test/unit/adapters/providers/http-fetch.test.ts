import { spawnSync } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpFetch } from '#providers/http-fetch.ts';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A loopback server that records what it received and counts connections. */
async function server(answer: (req: IncomingMessage, res: ServerResponse, body: string) => void) {
  const received: Received[] = [];
  let connections = 0;
  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      answer(req, res, body);
    });
  });
  http.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  servers.push(http);
  return { url: `http://127.0.0.1:${port}`, received, connections: () => connections };
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

const ok = (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'content-type': 'application/json', 'retry-after': '7' });
  res.end('{"status":"success"}');
};

describe('http fetch (node:http, keep-alive)', () => {
  it('returns status, headers and text, and sends a GET without a body', async () => {
    const s = await server(ok);
    const response = await createHttpFetch()(`${s.url}/api/lists?page=1`, {
      method: 'GET',
      headers: { accept: 'application/json', 'x-api-key': 'k' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('retry-after')).toBe('7');
    expect(response.headers.get('Retry-After')).toBe('7');
    expect(response.headers.get('x-absent')).toBeNull();
    expect(await response.text()).toBe('{"status":"success"}');
    const [got] = s.received;
    expect(got).toMatchObject({ method: 'GET', url: '/api/lists?page=1', body: '' });
    expect(got!.headers['x-api-key']).toBe('k');
    expect(got!.headers['user-agent']).toBe('pmta-bounce');
    expect(got!.headers['transfer-encoding']).toBeUndefined();
  });

  it.each([
    { body: 'EMAIL=j%C3%B8rn%40example.com', length: 29 },
    { body: '<xml>ø</xml>', length: 13 },
    { body: '', length: 0 },
  ])('sends a body of $length bytes with its Content-Length, never chunked', async ({ body, length }) => {
    const s = await server(ok);
    await createHttpFetch()(`${s.url}/x`, { method: 'PUT', headers: {}, body });
    const [got] = s.received;
    expect(got!.body).toBe(body);
    expect(got!.headers['content-length']).toBe(String(length));
    expect(got!.headers['transfer-encoding']).toBeUndefined();
  });

  it('reuses connections: one for sequential requests, at most one per request in flight', async () => {
    const s = await server((req, res) => setTimeout(() => ok(req, res), 5));
    const fetch = createHttpFetch();
    for (let i = 0; i < 10; i++) await (await fetch(`${s.url}/a`, { method: 'GET', headers: {} })).text();
    expect(s.connections()).toBe(1);
    for (let round = 0; round < 5; round++)
      await Promise.all(Array.from({ length: 8 }, () => fetch(`${s.url}/b`, { method: 'GET', headers: {} })));
    expect(s.received).toHaveLength(50);
    expect(s.connections()).toBeLessThanOrEqual(8);
  });

  it('does not follow a redirect', async () => {
    const s = await server((req, res) => {
      if (req.url === '/moved') return ok(req, res);
      res.writeHead(302, { location: '/moved' });
      res.end();
    });
    const response = await createHttpFetch()(`${s.url}/x`, { method: 'GET', headers: { 'x-api-key': 'k' } });
    expect(response.status).toBe(302);
    expect(s.received.map((r) => r.url)).toEqual(['/x']);
  });

  it('rejects when aborted while the server does not answer', async () => {
    const s = await server(() => {});
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await createHttpFetch()(`${s.url}/hang`, {
      method: 'GET',
      headers: {},
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect(controller.signal.aborted).toBe(true);
  });

  it('rejects with the network code when the connection is refused', async () => {
    const s = await server(ok);
    const url = s.url;
    const closing = servers.pop()!;
    await new Promise((resolve) => closing.close(resolve));
    const error = (await createHttpFetch()(`${url}/x`, { method: 'GET', headers: {} }).catch(
      (e: unknown) => e,
    )) as TypeError & { cause?: { code?: string } };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.cause?.code).toBe('ECONNREFUSED');
  });

  it('rejects an answer cut short (fewer bytes than its Content-Length)', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('{"status":');
      setTimeout(() => res.socket?.destroy(), 10);
    });
    const error = await createHttpFetch()(`${s.url}/x`, { method: 'GET', headers: {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
  });

  it('refuses an answer longer than 8 MiB (bounded memory whatever the server sends)', async () => {
    const s = await server((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const mib = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      // Bounded: 10 MiB at most, then the answer ends.
      const more = (): void => {
        while (sent < 10 && res.write(mib)) sent++;
        if (sent >= 10) res.end();
        else res.once('drain', more);
      };
      res.on('error', () => {});
      more();
    });
    const error = (await createHttpFetch()(`${s.url}/x`, { method: 'GET', headers: {} }).catch(
      (e: unknown) => e,
    )) as TypeError & { cause?: { code?: string } };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.cause?.code).toBe('ERR_ANSWER_TOO_LARGE');
  });

  it('refuses a scheme other than http and https', async () => {
    const error = await createHttpFetch()('ftp://127.0.0.1/x', { method: 'GET', headers: {} }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TypeError);
  });
});

describe('http fetch: loading', () => {
  // A `process` run without providers never needs the TLS stack (docs/benchmarks.md, peak RSS).
  it('loads node:http and node:https with the first client, not when the module is imported', () => {
    const probe = `
      const loaded = () => ['http', 'https', 'tls'].filter((m) => process.moduleLoadList.includes('NativeModule ' + m));
      const { createHttpFetch } = await import('#providers/http-fetch.ts');
      const before = loaded();
      createHttpFetch();
      console.log(JSON.stringify({ before, after: loaded() }));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', probe], {
      cwd: fileURLToPath(new URL('../../../..', import.meta.url)),
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ before: [], after: ['http', 'https', 'tls'] });
  });
});
