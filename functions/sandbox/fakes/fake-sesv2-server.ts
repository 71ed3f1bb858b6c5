/**
 * A tiny SES v2 stand-in on 127.0.0.1 (port 0): accepts SendEmail (`POST /v2/email/outbound-emails`),
 * checks the request's shape (signed, JSON, simple content with subject, text and HTML, one bare
 * recipient) and keeps what was sent. Anything else is answered 404; `reject` makes the next sends
 * fail as SES does for a refused message (400 MessageRejected, not retried by the SDK).
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

interface SentEmail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  charset: string | undefined;
}

interface FakeSesV2Server {
  endpoint: string;
  sent: SentEmail[];
  /** Shape problems seen (an empty list means every request was well-formed). */
  problems: string[];
  reject(times?: number): void;
  close(): Promise<void>;
}

/** SendEmail's JSON body, as far as the fake reads it. */
interface SendEmailBody {
  FromEmailAddress?: string;
  Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
  Content?: {
    Simple?: {
      Subject?: { Data?: string; Charset?: string };
      Body?: { Text?: { Data?: string }; Html?: { Data?: string } };
    };
  };
}

type Reply = (status: number, body: unknown, headers?: Record<string, string>) => void;

/** The body, kept up to 1 MB (a stand-in needs no more). */
function readBody(req: IncomingMessage, done: (body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= 1_000_000) chunks.push(c);
  });
  req.on('end', () => done(Buffer.concat(chunks)));
}

/** Signed as the SDK signs, and JSON. */
function checkHeaders(req: IncomingMessage, problems: string[]): void {
  if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
    problems.push('request not SigV4-signed');
  if (!String(req.headers['content-type'] ?? '').includes('application/json'))
    problems.push('content-type is not JSON');
}

/** The mail as sent, and what is wrong with its shape (added to `problems`). */
function sentEmail(body: SendEmailBody, problems: string[]): SentEmail {
  const simple = body.Content?.Simple;
  const email: SentEmail = {
    from: body.FromEmailAddress ?? '',
    to: body.Destination?.ToAddresses ?? [],
    subject: simple?.Subject?.Data ?? '',
    text: simple?.Body?.Text?.Data ?? '',
    html: simple?.Body?.Html?.Data ?? '',
    charset: simple?.Subject?.Charset,
  };
  if (!email.from) problems.push('no FromEmailAddress');
  if (email.to.length !== 1) problems.push('not exactly one To address');
  if (body.Destination?.CcAddresses?.length || body.Destination?.BccAddresses?.length)
    problems.push('unexpected Cc/Bcc');
  if (!email.subject || /[\r\n]/.test(email.subject)) problems.push('subject missing or multi-line');
  if (!email.text || !email.html) problems.push('text or HTML part missing');
  return email;
}

/** What the fake remembers between requests. */
interface SesState {
  sent: SentEmail[];
  problems: string[];
  rejects: number;
}

function handleRequest(req: IncomingMessage, raw: Buffer, state: SesState, reply: Reply) {
  if (req.method !== 'POST' || req.url !== '/v2/email/outbound-emails') {
    state.problems.push(`unexpected ${req.method} ${req.url}`);
    return reply(404, { message: 'not found' });
  }
  checkHeaders(req, state.problems);
  if (state.rejects > 0) {
    state.rejects -= 1;
    return reply(
      400,
      { message: 'Email address is not verified.' },
      { 'x-amzn-errortype': 'MessageRejected' },
    );
  }
  let body: SendEmailBody;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    state.problems.push('body is not JSON');
    return reply(400, { message: 'bad json' }, { 'x-amzn-errortype': 'BadRequestException' });
  }
  state.sent.push(sentEmail(body, state.problems));
  reply(200, { MessageId: `fake-${state.sent.length}` });
}

function startFakeSesV2Server(): Promise<FakeSesV2Server> {
  const state: SesState = { sent: [], problems: [], rejects: 0 };
  const server = createServer((req, res) => {
    readBody(req, (raw) =>
      handleRequest(req, raw, state, (status, body, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      }),
    );
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        sent: state.sent,
        problems: state.problems,
        reject(times = 1) {
          state.rejects += times;
        },
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export type { FakeSesV2Server, SentEmail };
export { startFakeSesV2Server };
