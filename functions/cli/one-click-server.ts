/**
 * The one-click endpoint over node:http for `pmta-bounce serve` (docs/unsubscribe.md, "One-click"):
 * limits → core decision → accepted POSTs of one tick recorded together (state and outbox, one write
 * set) → 200 only after that write → the drainer calls the providers in the background. A state that
 * cannot be written answers 503, never 200.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ActionOutbox, RateCounter, SuppressionStore } from '#core/ports.ts';
import { CONTENT_SECURITY_POLICY, oneClickPage } from '#core/unsubscribe/one-click-page.ts';
import { checkOneClickRate, type OneClickRateLimits } from '#core/unsubscribe/one-click-rate-limit.ts';
import {
  decideOneClick,
  MAX_BODY,
  type OneClickDecision,
  type OneClickSettings,
  oneClickHtml,
} from '#core/unsubscribe/one-click-request.ts';
import type { OneClickTarget } from '#core/unsubscribe/one-click-token.ts';
import { type OneClickRecordSettings, recordOneClicks } from '#core/unsubscribe/record-one-click.ts';

interface OneClickServerDeps {
  settings: OneClickSettings & OneClickRecordSettings;
  limits: OneClickRateLimits;
  trustForwardedFor: boolean;
  store: SuppressionStore;
  outbox: Pick<ActionOutbox, 'enqueue'>;
  rateCounter: RateCounter;
  /** Called after actions were written to the outbox. */
  onEnqueued: () => void;
  now: () => number;
  log: (line: string) => void;
}

type Waiter = { target: OneClickTarget; done: (ok: boolean) => void };

const BASE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-robots-tag': 'noindex, nofollow',
};

/** Group commit: the POSTs accepted in one event-loop tick share one write set. */
function createRecorder(deps: OneClickServerDeps): (target: OneClickTarget) => Promise<boolean> {
  let batch: Waiter[] = [];
  const flush = async (): Promise<void> => {
    const waiters = batch;
    batch = [];
    try {
      const records = await recordOneClicks(
        waiters.map((w) => w.target),
        deps.settings,
        deps.store,
        deps.now(),
      );
      const actions = records.flatMap((r) => (r.action ? [r.action] : []));
      if (actions.length > 0) deps.outbox.enqueue(actions);
      for (const r of records)
        deps.log(`one-click: ${r.subject.includes('@') ? '(sealed address)' : r.subject} ${r.state}`);
      for (const w of waiters) w.done(true);
      if (actions.length > 0) deps.onEnqueued();
    } catch (error) {
      deps.log(`one-click: state not written: ${(error as Error).message}`);
      for (const w of waiters) w.done(false);
    }
  };
  return (target) =>
    new Promise<boolean>((resolve) => {
      if (batch.length === 0) setImmediate(() => void flush());
      batch.push({ target, done: resolve });
    });
}

function clientOf(req: IncomingMessage, trustForwardedFor: boolean): string {
  const forwarded = req.headers['x-forwarded-for'];
  if (trustForwardedFor && typeof forwarded === 'string') return forwarded.split(',', 1)[0]!.trim();
  return req.socket.remoteAddress ?? '';
}

/** The body as latin1 text, at most MAX_BODY + 1 bytes kept (more makes the body invalid). */
function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size <= MAX_BODY) chunks.push(chunk);
      size += chunk.length;
    });
    req.on('end', () =>
      resolve(
        Buffer.concat(chunks)
          .subarray(0, MAX_BODY + 1)
          .toString('latin1'),
      ),
    );
    req.on('error', () => resolve(''));
  });
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  html: string,
  extra: Record<string, string> = {},
) {
  res.writeHead(status, { ...BASE_HEADERS, ...extra, 'content-length': Buffer.byteLength(html) });
  res.end(req.method === 'HEAD' ? undefined : html);
}

async function answer(
  deps: OneClickServerDeps,
  record: (t: OneClickTarget) => Promise<boolean>,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const path = (req.url ?? '/').split('?', 1)[0]!;
  if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : 'ok\n');
    return;
  }
  if (req.method !== 'POST') req.resume();
  const body = req.method === 'POST' ? await readBody(req) : '';
  const limit = await checkOneClickRate(
    deps.rateCounter,
    deps.limits,
    clientOf(req, deps.trustForwardedFor),
    deps.now(),
  );
  if (!limit.ok)
    return send(req, res, 429, oneClickPage('busy', ''), { 'retry-after': String(limit.retryAfterSeconds) });
  const decision: OneClickDecision = decideOneClick(
    { method: req.method ?? 'GET', path, contentType: req.headers['content-type'], body },
    deps.settings,
  );
  if (decision.kind === 'page')
    return send(
      req,
      res,
      decision.status,
      oneClickHtml(decision),
      decision.status === 405 ? { allow: 'GET, HEAD, POST' } : {},
    );
  if (!(await record(decision.target)))
    return send(req, res, 503, oneClickPage('busy', ''), { 'retry-after': '30' });
  send(req, res, 200, oneClickHtml(decision));
}

function createOneClickServer(deps: OneClickServerDeps): Server {
  const record = createRecorder(deps);
  const server = createServer((req, res) => {
    answer(deps, record, req, res).catch((error: Error) => {
      deps.log(`one-click: ${error.message}`);
      if (!res.headersSent) send(req, res, 500, oneClickPage('bad-request', ''));
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.keepAliveTimeout = 5_000;
  return server;
}

export type { OneClickServerDeps };
export { createOneClickServer };
