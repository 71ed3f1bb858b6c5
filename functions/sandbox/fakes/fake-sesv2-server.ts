/**
 * A tiny SES v2 stand-in on 127.0.0.1 (port 0): accepts SendEmail (`POST /v2/email/outbound-emails`),
 * checks the request's shape (signed, JSON, simple content with subject, text and HTML, one bare
 * recipient) and keeps what was sent. Anything else is answered 404; `reject` makes the next sends
 * fail as SES does for a refused message (400 MessageRejected, not retried by the SDK).
 */
import { createServer } from 'node:http';
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

function startFakeSesV2Server(): Promise<FakeSesV2Server> {
  const sent: SentEmail[] = [];
  const problems: string[] = [];
  let rejects = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 1_000_000) chunks.push(c);
    });
    req.on('end', () => {
      const reply = (status: number, body: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || req.url !== '/v2/email/outbound-emails') {
        problems.push(`unexpected ${req.method} ${req.url}`);
        return reply(404, { message: 'not found' });
      }
      if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 '))
        problems.push('request not SigV4-signed');
      if (!String(req.headers['content-type'] ?? '').includes('application/json'))
        problems.push('content-type is not JSON');
      if (rejects > 0) {
        rejects -= 1;
        return reply(
          400,
          { message: 'Email address is not verified.' },
          { 'x-amzn-errortype': 'MessageRejected' },
        );
      }
      let body: {
        FromEmailAddress?: string;
        Destination?: { ToAddresses?: string[]; CcAddresses?: string[]; BccAddresses?: string[] };
        Content?: {
          Simple?: {
            Subject?: { Data?: string; Charset?: string };
            Body?: { Text?: { Data?: string }; Html?: { Data?: string } };
          };
        };
      };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        problems.push('body is not JSON');
        return reply(400, { message: 'bad json' }, { 'x-amzn-errortype': 'BadRequestException' });
      }
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
      sent.push(email);
      reply(200, { MessageId: `fake-${sent.length}` });
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        sent,
        problems,
        reject(times = 1) {
          rejects += times;
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
