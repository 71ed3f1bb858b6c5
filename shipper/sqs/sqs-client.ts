/**
 * A small SQS client for the shipper: the AWS JSON 1.0 protocol (as @aws-sdk/client-sqs speaks
 * it), SigV4 signing and keep-alive connections, with node built-ins only. It replaces the SDK on
 * the PowerMTA box, where the SDK cost ~16 MB of RSS and much of the CPU. No retries here: the
 * sender owns retrying.
 */
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { createRequire } from 'node:module';
import type { AwsCredentials } from '../credentials/aws-credential-source.ts';
import { signRequest } from './sigv4.ts';
import {
  headerValue,
  networkErrorFrom,
  SqsError,
  SqsNetworkError,
  SqsNetworkErrorName,
  sqsErrorFrom,
} from './sqs-errors.ts';

interface SqsMessageAttribute {
  DataType: 'String';
  StringValue: string;
}

interface SqsBatchEntry {
  Id: string;
  /**
   * The body text. A Buffer must hold text that needs no JSON escaping (base64): its bytes go into
   * the request as they are, with no string made of them (the shipper's bodies stay off the heap).
   */
  MessageBody: string | Buffer;
  MessageAttributes?: Record<string, SqsMessageAttribute>;
}

interface SqsBatchResult {
  Successful: Array<{ Id: string; MessageId?: string }>;
  Failed: Array<{ Id: string; SenderFault: boolean; Code: string; Message?: string }>;
}

interface SqsClientOptions {
  region: string;
  /** e.g. http://127.0.0.1:4566; default https://sqs.<region>.amazonaws.com (.com.cn in China). */
  endpoint?: string;
  credentials: () => Promise<AwsCredentials>;
  /** Time to establish a new connection (default 3000 ms). */
  connectTimeoutMs?: number;
  /** Time from sending until the whole answer has arrived (default 30000 ms). */
  requestTimeoutMs?: number;
  /** Connections kept to the endpoint (default 4). */
  maxSockets?: number;
}

interface RawResponse {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A clock this far off makes AWS refuse every signature (the limit is 5 minutes). */
const CLOCK_SKEW_LIMIT_MS = 4 * 60_000;
/** Idle connections are closed after this, before the server's idle timeout can race a reuse. */
const IDLE_SOCKET_MS = 20_000;

function defaultEndpoint(region: string): string {
  return `https://sqs.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

class SqsClient {
  private readonly region: string;
  private readonly url: URL;
  private readonly credentials: () => Promise<AwsCredentials>;
  private readonly connectTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  /** Server time minus local time, learnt from error answers when the local clock is off. */
  private clockOffsetMs = 0;

  constructor(o: SqsClientOptions) {
    this.region = o.region;
    this.url = new URL(o.endpoint ?? defaultEndpoint(o.region));
    if (this.url.protocol !== 'http:' && this.url.protocol !== 'https:') {
      throw new Error(`SQS endpoint must be http or https, not ${this.url.protocol}`);
    }
    this.credentials = o.credentials;
    this.connectTimeoutMs = o.connectTimeoutMs ?? 3000;
    this.requestTimeoutMs = o.requestTimeoutMs ?? 30_000;
    const agentOptions = { keepAlive: true, maxSockets: o.maxSockets ?? 4, timeout: IDLE_SOCKET_MS };
    const https = this.url.protocol === 'https:';
    // https (and TLS behind it) is loaded only when used: ~1.6 MB of RSS a plain-http endpoint
    // (sandbox, tests, benchmarks) does not need.
    const tls = https
      ? (createRequire(import.meta.url)('node:https') as typeof import('node:https'))
      : undefined;
    this.agent = tls ? new tls.Agent(agentOptions) : new HttpAgent(agentOptions);
    this.send = tls ? tls.request : httpRequest;
  }

  async sendMessageBatch(
    queueUrl: string,
    entries: SqsBatchEntry[],
    signal?: AbortSignal,
  ): Promise<SqsBatchResult> {
    type Answer = {
      Successful?: Array<{ Id: string; MessageId?: string }>;
      Failed?: Array<{ Id: string; SenderFault?: boolean; Code?: string; Message?: string }>;
    };
    const out = await this.call<Answer>('SendMessageBatch', batchRequestPieces(queueUrl, entries), signal);
    return {
      Successful: (out.Successful ?? []).map((s) => ({ Id: s.Id, MessageId: s.MessageId })),
      Failed: (out.Failed ?? []).map((f) => ({
        Id: f.Id,
        SenderFault: f.SenderFault === true,
        Code: f.Code ?? '',
        Message: f.Message,
      })),
    };
  }

  async getQueueAttributes(
    queueUrl: string,
    names: string[],
    signal?: AbortSignal,
  ): Promise<Record<string, string>> {
    const out = await this.call<{ Attributes?: Record<string, string> }>(
      'GetQueueAttributes',
      { QueueUrl: queueUrl, AttributeNames: names },
      signal,
    );
    return out.Attributes ?? {};
  }

  async sendMessage(
    queueUrl: string,
    body: string,
    attributes?: Record<string, SqsMessageAttribute>,
    signal?: AbortSignal,
  ): Promise<void> {
    await this.call(
      'SendMessage',
      { QueueUrl: queueUrl, MessageBody: body, MessageAttributes: attributes },
      signal,
    );
  }

  /** Closes the kept-alive connections; calls made afterwards open new ones. */
  destroy(): void {
    this.agent.destroy();
  }

  /** `input`: the request's JSON value, or its JSON text already as pieces of bytes, in order. */
  private async call<T>(operation: string, input: object | RequestPieces, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) throw new SqsNetworkError(SqsNetworkErrorName.Aborted, `${operation}: aborted`);
    const credentials = await this.credentials();
    // JSON.stringify is native and fast; undefined members (absent attributes) simply vanish.
    const body = input instanceof RequestPieces ? input.pieces : [Buffer.from(JSON.stringify(input), 'utf8')];
    const headers: Record<string, string> = {
      host: this.url.host,
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': `AmazonSQS.${operation}`,
      // What the SDK sends: SQS then adds the legacy error code in x-amzn-query-error.
      'x-amzn-query-mode': 'true',
    };
    const signed = signRequest(
      { method: 'POST', url: this.url, headers, body },
      { region: this.region, service: 'sqs', credentials, date: new Date(Date.now() + this.clockOffsetMs) },
    );
    const res = await this.post(
      operation,
      { ...headers, ...signed, 'content-length': String(lengthOf(body)), 'user-agent': 'pmta-shipper' },
      body,
      signal,
    );
    if (res.status >= 200 && res.status < 300) {
      if (res.body.length === 0) return {} as T;
      try {
        return JSON.parse(res.body.toString('utf8')) as T;
      } catch {
        throw new SqsError('InvalidResponse', `${operation}: the answer is not JSON`, {
          status: res.status,
          senderFault: false,
        });
      }
    }
    this.learnClockOffset(res);
    throw sqsErrorFrom(res.status, res.headers, res.body, [
      credentials.secretAccessKey,
      credentials.sessionToken ?? '',
    ]);
  }

  /** AWS refuses requests signed more than 5 minutes off its clock; follow its Date header then. */
  private learnClockOffset(res: RawResponse): void {
    const date = headerValue(res.headers, 'date');
    const serverMs = date === undefined ? Number.NaN : Date.parse(date);
    if (Number.isNaN(serverMs)) return;
    const offset = serverMs - Date.now();
    this.clockOffsetMs = Math.abs(offset) > CLOCK_SKEW_LIMIT_MS ? offset : 0;
  }

  private post(
    operation: string,
    headers: Record<string, string>,
    body: readonly Buffer[],
    signal: AbortSignal | undefined,
  ): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      const req = this.send({
        protocol: this.url.protocol,
        hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
        port: this.url.port,
        path: this.url.pathname,
        method: 'POST',
        headers,
        agent: this.agent,
      });
      const guard = this.guard(req, operation, signal, reject);
      req.on('error', (error) => guard.fail(networkErrorFrom(operation, error), false));
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', (error) => guard.fail(networkErrorFrom(operation, error), true));
        res.once('end', () => {
          if (!guard.settle()) return;
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
      });
      // Written piece by piece: the message bodies go out from where they are, never joined.
      req.cork(); // one writev for all the pieces
      for (const piece of body) req.write(piece);
      req.end();
      req.uncork();
    });
  }

  /** The connect and request timeouts and the caller's abort signal, for one request. */
  private guard(
    req: ClientRequest,
    operation: string,
    signal: AbortSignal | undefined,
    reject: (error: Error) => void,
  ): RequestGuard {
    let settled = false;
    let connectTimer: NodeJS.Timeout | undefined;
    const networkError = (name: SqsNetworkErrorName, text: string): SqsNetworkError =>
      new SqsNetworkError(name, `${operation}: ${text}`);
    const onAbort = (): void => fail(networkError(SqsNetworkErrorName.Aborted, 'aborted'), true);
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(requestTimer);
      clearTimeout(connectTimer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const fail = (error: Error, destroy: boolean): void => {
      if (!settle()) return;
      if (destroy) req.destroy();
      reject(error);
    };
    const requestTimer = setTimeout(() => {
      const text = `no complete answer within ${this.requestTimeoutMs} ms`;
      fail(networkError(SqsNetworkErrorName.RequestTimeout, text), true);
    }, this.requestTimeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('socket', (socket) => {
      if (!socket.connecting) return; // a kept-alive connection
      connectTimer = setTimeout(() => {
        const text = `no connection to ${this.url.host} within ${this.connectTimeoutMs} ms`;
        fail(networkError(SqsNetworkErrorName.ConnectTimeout, text), true);
      }, this.connectTimeoutMs);
      socket.once('connect', () => clearTimeout(connectTimer));
    });
    return { fail, settle };
  }
}

/** One request's end: `settle` once (false if it already ended), `fail` rejects if not yet ended. */
interface RequestGuard {
  fail: (error: Error, destroy: boolean) => void;
  settle: () => boolean;
}

/** A request's JSON text as byte pieces, in order (the bodies are not copied into one buffer). */
class RequestPieces {
  constructor(readonly pieces: Buffer[]) {}
}

/** SendMessageBatch's JSON as pieces: Buffer bodies are passed through as they are. */
function batchRequestPieces(queueUrl: string, entries: readonly SqsBatchEntry[]): RequestPieces {
  const pieces: Buffer[] = [];
  let text = `{"QueueUrl":${JSON.stringify(queueUrl)},"Entries":[`;
  entries.forEach((e, i) => {
    text += `${i > 0 ? ',' : ''}{"Id":${JSON.stringify(e.Id)},"MessageBody":`;
    if (typeof e.MessageBody === 'string') text += JSON.stringify(e.MessageBody);
    else {
      pieces.push(Buffer.from(`${text}"`, 'utf8'), e.MessageBody);
      text = '"';
    }
    if (e.MessageAttributes) text += `,"MessageAttributes":${JSON.stringify(e.MessageAttributes)}`;
    text += '}';
  });
  pieces.push(Buffer.from(`${text}]}`, 'utf8'));
  return new RequestPieces(pieces);
}

function lengthOf(pieces: readonly Buffer[]): number {
  let n = 0;
  for (const p of pieces) n += p.length;
  return n;
}

export type { SqsBatchEntry, SqsBatchResult, SqsClientOptions, SqsMessageAttribute };
export { SqsClient, SqsError, SqsNetworkError };
