/**
 * An HTTP proxy on 127.0.0.1 in front of an SQS-compatible server, for fault injection the way real
 * SQS fails: `down()` refuses connections (SQS unreachable) until `up()`, and `failEntry` makes
 * SendMessageBatch report chosen entries as Failed (they are not forwarded, so they are really not
 * stored) while the others go through — a faithful partial batch failure.
 */
import { createServer, request, type Server } from 'node:http';
import type { Socket } from 'node:net';

interface SqsFaultProxy {
  endpoint: string;
  down: () => Promise<void>;
  up: () => Promise<void>;
  /** SendMessageBatch calls seen / entries failed on purpose. */
  counts: { batches: number; failedEntries: number };
  stop: () => Promise<void>;
}

interface ProxyOptions {
  /** Answer GetQueueAttributes with AccessDenied, as for an identity allowed only SendMessage. */
  denyGetQueueAttributes?: boolean;
  /** Return true to fail this entry (called once per entry per attempt). */
  failEntry?: (entryId: string, attempt: number) => boolean;
}

async function startSqsFaultProxy(target: string, options: ProxyOptions = {}): Promise<SqsFaultProxy> {
  const targetUrl = new URL(target);
  const sockets = new Set<Socket>();
  const attempts = new Map<string, number>();
  const counts = { batches: 0, failedEntries: 0 };
  const handler: Parameters<typeof createServer>[1] = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body: Buffer = Buffer.concat(chunks);
      if (options.denyGetQueueAttributes && req.headers['x-amz-target'] === 'AmazonSQS.GetQueueAttributes') {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(
          JSON.stringify({
            __type: 'com.amazon.coral.service#AccessDeniedException',
            message: 'User is not authorized to perform: sqs:getqueueattributes',
          }),
        );
        return;
      }
      const isBatch = req.headers['x-amz-target'] === 'AmazonSQS.SendMessageBatch';
      const failed: Array<{ Id: string; SenderFault: boolean; Code: string; Message: string }> = [];
      if (isBatch && options.failEntry) {
        counts.batches++;
        const json = JSON.parse(body.toString('utf8')) as {
          Entries: Array<{ Id: string; MessageBody: string }>;
        };
        json.Entries = json.Entries.filter((e) => {
          const key = `${e.MessageBody.length}:${e.MessageBody.slice(-64)}`;
          const attempt = (attempts.get(key) ?? 0) + 1;
          attempts.set(key, attempt);
          if (!options.failEntry?.(e.Id, attempt)) return true;
          failed.push({ Id: e.Id, SenderFault: false, Code: 'InternalError', Message: 'injected failure' });
          counts.failedEntries++;
          return false;
        });
        if (json.Entries.length === 0) {
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ Successful: [], Failed: failed }));
          return;
        }
        body = Buffer.from(JSON.stringify(json));
      }
      const headers = { ...req.headers, host: targetUrl.host, 'content-length': String(body.length) };
      const upstream = request(
        { host: targetUrl.hostname, port: targetUrl.port, path: req.url, method: req.method, headers },
        (up) => {
          const out: Buffer[] = [];
          up.on('data', (c: Buffer) => out.push(c));
          up.on('end', () => {
            let payload: Buffer = Buffer.concat(out);
            if (failed.length > 0 && up.statusCode === 200) {
              const json = JSON.parse(payload.toString('utf8')) as { Failed?: unknown[] };
              json.Failed = [...(json.Failed ?? []), ...failed];
              payload = Buffer.from(JSON.stringify(json));
            }
            const h = { ...up.headers, 'content-length': String(payload.length) };
            res.writeHead(up.statusCode ?? 502, h);
            res.end(payload);
          });
        },
      );
      upstream.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      upstream.end(body);
    });
  };
  let server: Server = createServer(handler);
  const listen = (port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server = createServer(handler);
      server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const a = server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  const port = await listen(0);
  let isUp = true;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    async down() {
      if (!isUp) return;
      isUp = false;
      await close();
    },
    async up() {
      if (isUp) return;
      await listen(port);
      isUp = true;
    },
    async stop() {
      if (isUp) await close();
      isUp = false;
    },
  };
}

export type { SqsFaultProxy };
export { startSqsFaultProxy };
