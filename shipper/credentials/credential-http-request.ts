/**
 * One small HTTP request to a credential endpoint (instance metadata, the container agent), with
 * a connect timeout and a separate response timeout so a box without such an endpoint fails in
 * about a second. No keep-alive: these requests happen once an hour or so.
 */
import { request as httpRequest } from 'node:http';
import { createRequire } from 'node:module';

interface CredentialHttpRequest {
  method: 'GET' | 'PUT';
  headers?: Record<string, string>;
  timeoutMs: number;
}

interface CredentialHttpResponse {
  status: number;
  body: string;
}

/** Credential documents are a few KiB; anything far larger is not one. */
const MAX_BODY_BYTES = 64 * 1024;

function requestCredentialEndpoint(url: URL, o: CredentialHttpRequest): Promise<CredentialHttpResponse> {
  return new Promise((resolve, reject) => {
    // https only when a credential endpoint needs it (IMDS and ECS are plain http): it costs RSS.
    const send =
      url.protocol === 'https:'
        ? (createRequire(import.meta.url)('node:https') as typeof import('node:https')).request
        : httpRequest;
    const req = send(url, { method: o.method, headers: o.headers ?? {}, agent: false });
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const fail = (error: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(error);
    };
    const arm = (phase: string): void => {
      clearTimeout(timer);
      timer = setTimeout(() => fail(new Error(`${phase} timeout after ${o.timeoutMs} ms`)), o.timeoutMs);
    };
    arm('connect');
    req.once('socket', (socket) => socket.once('connect', () => arm('response')));
    req.on('error', fail);
    req.once('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) fail(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`));
        else chunks.push(chunk);
      });
      res.on('error', fail);
      res.once('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end();
  });
}

/** "connect ECONNREFUSED 127.0.0.1:9", "connect timeout after 1000 ms": never a header value. */
function describeRequestError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type { CredentialHttpResponse };
export { describeRequestError, requestCredentialEndpoint };
