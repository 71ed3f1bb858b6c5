/**
 * Secrets Manager's GetSecretValue (awsJson1_1) on 127.0.0.1, for the act function's wiring: one
 * secret by ARN, its JSON value replaceable while running (an operator's put-secret-value), every
 * call counted. Any other target or secret id is refused as AWS refuses it.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const FAKE_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:pmta-bounce-test';

interface FakeSecretsManager {
  server: Server;
  url: string;
  calls(): number;
  /** Replaces the secret's value (a new version). */
  put(secret: Record<string, string>): void;
  close(): Promise<void>;
}

function startFakeSecretsManager(initial: Record<string, string>): Promise<FakeSecretsManager> {
  let calls = 0;
  let secret = initial;
  let version = 1;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      calls += 1;
      const target = String(req.headers['x-amz-target'] ?? '');
      const { SecretId } = JSON.parse(body || '{}') as { SecretId?: string };
      res.setHeader('content-type', 'application/x-amz-json-1.1');
      if (target !== 'secretsmanager.GetSecretValue' || SecretId !== FAKE_SECRET_ARN) {
        res.statusCode = 400;
        res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' }));
        return;
      }
      res.end(
        JSON.stringify({
          ARN: FAKE_SECRET_ARN,
          Name: 'pmta-bounce-test',
          VersionId: `v${version}`,
          SecretString: JSON.stringify(secret),
        }),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        server,
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        calls: () => calls,
        put: (next) => {
          secret = next;
          version += 1;
        },
        close: () => new Promise((done) => server.close(() => done())),
      }),
    ),
  );
}

export type { FakeSecretsManager };
export { FAKE_SECRET_ARN, startFakeSecretsManager };
