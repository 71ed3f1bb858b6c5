/**
 * `pmta-bounce sandbox --one-click HOST:PORT`: the unsub-http function served over plain HTTP on
 * this machine, as its Lambda Function URL would serve it: each request becomes a Function URL
 * event for the real handler module (imported on the first request, after the sandbox has set the
 * handlers' environment, as Lambda would load it). Listen on 127.0.0.1 unless you mean otherwise.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyStructuredResultV2, LambdaFunctionURLEvent } from 'aws-lambda';
import type { SandboxExtension } from './sandbox-extension.ts';

type UrlHandler = (
  event: LambdaFunctionURLEvent,
  context: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;
const MAX_BODY = 16 * 1024;

function parseListen(value: string): { host: string; port: number } {
  const colon = value.lastIndexOf(':');
  const port = Number(value.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65_535)
    throw new Error(`--one-click ${JSON.stringify(value)}: expected HOST:PORT`);
  return { host: value.slice(0, colon), port };
}

async function eventOf(req: IncomingMessage): Promise<LambdaFunctionURLEvent> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  }
  const [path = '/', query = ''] = (req.url ?? '/').split('?', 2);
  const headers = Object.fromEntries(
    Object.entries(req.headers).flatMap(([k, v]) => (typeof v === 'string' ? [[k, v]] : [])),
  );
  const method = req.method ?? 'GET';
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: query,
    headers,
    requestContext: {
      http: {
        method,
        path,
        protocol: 'HTTP/1.1',
        sourceIp: req.socket.remoteAddress ?? '',
        userAgent: headers['user-agent'] ?? '',
      },
    },
    body: Buffer.concat(chunks).toString('base64'),
    isBase64Encoded: true,
  } as unknown as LambdaFunctionURLEvent;
}

const oneClickExtension: SandboxExtension = {
  flags: { 'one-click': { type: 'string' } },
  help: '  --one-click H:P      serve the unsub-http function (one-click unsubscribe, RFC 8058) on http://H:P/u/{token}',
  create(values, _context, log) {
    const listen = values['one-click'];
    if (typeof listen !== 'string' || listen === '') return undefined;
    const { host, port } = parseListen(listen);
    let loaded: Promise<UrlHandler> | undefined;
    let server: Server | undefined;
    return {
      start() {
        server = createServer((req, res) => {
          loaded ??= import('#lambda/unsub-http/handler.ts').then((m) => m.handler as unknown as UrlHandler);
          void (async () => {
            const result = await (await loaded)(await eventOf(req), {});
            res.writeHead(result.statusCode ?? 200, (result.headers ?? {}) as Record<string, string>);
            res.end(req.method === 'HEAD' ? undefined : result.body);
          })().catch((error: Error) => {
            log(`one-click: ${error.message}`);
            if (!res.headersSent) res.writeHead(500);
            res.end();
          });
        });
        server.listen(port, host, () => {
          const address = server?.address();
          const actual = typeof address === 'object' && address ? address.port : port;
          log(`one-click:     http://${host}:${actual}/u/{token} (unsub-http)`);
        });
      },
      stop: () =>
        new Promise<void>((resolve) => {
          if (!server) return resolve();
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  },
};

export { oneClickExtension };
