/**
 * The HTTP client of the provider adapters: the part of fetch they use (provider-call-policy.ts),
 * on node:http/node:https with keep-alive agents. Measured against the global fetch (undici) in
 * docs/benchmarks.md: about a third of the CPU per request, and one connection per request in
 * flight where fetch opened two. Never follows redirects (they could carry the key headers to
 * another host); failures reject like fetch's (a TypeError whose `cause` has the network code).
 */
import type { IncomingMessage } from 'node:http';

interface ProviderFetchInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** Redirects are never followed; the 3xx answer is returned as it is. */
  redirect?: 'manual';
}

/** An answer's headers as fetch's `Headers.get` reads them: any case, repeated ones joined. */
interface ResponseHeaders {
  get(name: string): string | null;
}

/** What the call policy reads of an answer. */
interface ProviderFetchResponse {
  status: number;
  headers: ResponseHeaders;
  text(): Promise<string>;
}

/** A fetch as the providers use it; the global fetch is one too (tests pass it). */
type ProviderFetch = (url: string, init: ProviderFetchInit) => Promise<ProviderFetchResponse>;

/**
 * Idle connections are closed after this long (or earlier when the server's Keep-Alive header
 * says so), before a server or a proxy closes them under a request (undici's default too).
 */
const IDLE_SOCKET_MS = 4000;
const USER_AGENT = 'pmta-bounce';
/** Provider answers are a few KB; a longer one (a misrouted download, a hostile server) is refused. */
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;

function networkError(cause: unknown): TypeError {
  return Object.assign(new TypeError('fetch failed'), { cause });
}

/**
 * Node has joined repeated headers already (set-cookie aside). Not fetch's Headers class: its
 * first use loads undici's fetch implementation (tens of ms and ~20 MB), which this client avoids.
 */
function responseHeaders(message: IncomingMessage): ResponseHeaders {
  const all = message.headers;
  return {
    get(name) {
      const value = all[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

/** Reads the whole answer; a connection that closes before its end is a network error. */
function readAnswer(message: IncomingMessage): Promise<ProviderFetchResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    let bytes = 0;
    message.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= MAX_ANSWER_BYTES) chunks.push(chunk);
      else message.destroy(Object.assign(new Error('answer too large'), { code: 'ERR_ANSWER_TOO_LARGE' }));
    });
    message.on('error', (error) => reject(networkError(error)));
    message.on('end', () => {
      ended = true;
      const text = Buffer.concat(chunks).toString('utf8');
      resolve({ status: message.statusCode ?? 0, headers: responseHeaders(message), text: async () => text });
    });
    message.on('close', () => {
      if (!ended) reject(networkError(Object.assign(new Error('answer cut short'), { code: 'ECONNRESET' })));
    });
  });
}

/** A ProviderFetch with its own keep-alive agents (one per process is enough: they pool per host). */
function createHttpFetch(): ProviderFetch {
  // Loaded with the first provider, not at import: a run without providers never loads the TLS
  // stack (~2.5 MB of peak RSS, docs/benchmarks.md).
  const http = process.getBuiltinModule('node:http');
  const https = process.getBuiltinModule('node:https');
  const options = { keepAlive: true, timeout: IDLE_SOCKET_MS, scheduling: 'lifo' as const };
  const agents = { http: new http.Agent(options), https: new https.Agent(options) };
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      const secure = target.protocol === 'https:';
      if (!secure && target.protocol !== 'http:') {
        reject(networkError(Object.assign(new Error('unsupported scheme'), { code: 'ERR_INVALID_URL' })));
        return;
      }
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...init.headers };
      // A length, never chunked: some PHP front ends refuse chunked request bodies.
      if (init.body !== undefined) headers['content-length'] = String(Buffer.byteLength(init.body));
      const request = (secure ? https.request : http.request)(target, {
        method: init.method,
        headers,
        agent: secure ? agents.https : agents.http,
        ...(init.signal ? { signal: init.signal } : {}),
      });
      request.on('response', (message) => readAnswer(message).then(resolve, reject));
      request.on('error', (error) => reject(networkError(error)));
      request.end(init.body);
    });
}

export type { ProviderFetch, ProviderFetchInit, ProviderFetchResponse, ResponseHeaders };
export { createHttpFetch };
