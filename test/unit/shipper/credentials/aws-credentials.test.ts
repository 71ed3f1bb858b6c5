import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TEST_CANARY } from '../../../../scripts/scan-canary.ts';
import { createCredentialChain } from '../../../../shipper/credentials/aws-credentials.ts';

// The canary is the secret in every slot, so a leak shows up here and in CI's output scan.
const SECRET = TEST_CANARY;
const TOKEN = `${TEST_CANARY}Token`;

let dir: string;
const servers: Server[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'shipper-credentials-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map((s) => {
      s.closeAllConnections();
      return new Promise((resolve) => s.close(resolve));
    }),
  );
});

/** No real home, no real metadata endpoint: every test starts from this. */
function isolatedEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    HOME: dir,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'missing-credentials'),
    AWS_CONFIG_FILE: join(dir, 'missing-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  const error = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error('expected a rejection');
  expect(error.message).not.toContain(SECRET);
  expect(String(error.cause ?? '')).not.toContain(SECRET);
  return error;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('environment', () => {
  it('takes the key pair and the session token', async () => {
    const chain = createCredentialChain(
      isolatedEnv({ AWS_ACCESS_KEY_ID: 'AKIDENV', AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN }),
    );
    expect(await chain()).toEqual({ accessKeyId: 'AKIDENV', secretAccessKey: SECRET, sessionToken: TOKEN });
  });

  it('refuses half a pair, naming the missing variable', async () => {
    const error = await rejection(createCredentialChain(isolatedEnv({ AWS_SECRET_ACCESS_KEY: SECRET }))());
    expect(error.message).toMatch(/AWS_ACCESS_KEY_ID is not set/);
  });
});

describe('shared files', () => {
  it('reads the profile from AWS_PROFILE, the credentials file winning over the config file', async () => {
    const credentials = file(
      'credentials',
      [
        '# comment',
        '[default]',
        'aws_access_key_id = AKIDDEFAULT',
        `aws_secret_access_key = ${SECRET}`,
        '',
        '[work]',
        'aws_access_key_id=AKIDWORK ; inline comment',
        `aws_secret_access_key=${SECRET}`,
      ].join('\n'),
    );
    const config = file(
      'config',
      [
        '[profile work]',
        'region = eu-west-1',
        'aws_access_key_id = AKIDFROMCONFIG',
        `aws_session_token = ${TOKEN}`,
        's3 =',
        '  max_concurrent_requests = 10',
      ].join('\n'),
    );
    const env = isolatedEnv({ AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config });
    expect(await createCredentialChain(env)()).toEqual({
      accessKeyId: 'AKIDDEFAULT',
      secretAccessKey: SECRET,
    });
    expect(await createCredentialChain({ ...env, AWS_PROFILE: 'work' })()).toEqual({
      accessKeyId: 'AKIDWORK',
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
    });
  });

  it('reads [profile NAME] and [default] sections of the config file alone', async () => {
    const config = file(
      'config-only',
      [
        '[default]',
        'aws_access_key_id = AKIDCONFIGDEFAULT',
        `aws_secret_access_key = ${SECRET}`,
        '[profile ops]',
        'aws_access_key_id = AKIDOPS',
        `aws_secret_access_key = ${SECRET}`,
        '[ops]',
        'aws_access_key_id = AKIDIGNORED',
      ].join('\n'),
    );
    const env = isolatedEnv({ AWS_CONFIG_FILE: config });
    expect((await createCredentialChain(env)()).accessKeyId).toBe('AKIDCONFIGDEFAULT');
    expect((await createCredentialChain({ ...env, AWS_PROFILE: 'ops' })()).accessKeyId).toBe('AKIDOPS');
  });

  it('runs credential_process and reads its JSON, expiration included', async () => {
    const script = file(
      'creds.sh',
      `#!/bin/sh\necho '{"Version":1,"AccessKeyId":"AKIDPROC'"$1"'","SecretAccessKey":"${SECRET}","SessionToken":"${TOKEN}","Expiration":"2031-01-02T03:04:05Z"}'\n`,
    );
    chmodSync(script, 0o755);
    const config = file('config-process', `[profile proc]\ncredential_process = ${script} -suffix\n`);
    const chain = createCredentialChain(isolatedEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: 'proc' }));
    expect(await chain()).toEqual({
      accessKeyId: 'AKIDPROC-suffix',
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: new Date('2031-01-02T03:04:05Z'),
    });
  });

  it('reports a failing credential_process without its output or command line', async () => {
    const script = file('failing.sh', `#!/bin/sh\necho "${SECRET}"\necho "${SECRET}" >&2\nexit 3\n`);
    chmodSync(script, 0o755);
    const config = file(
      'config-failing',
      `[profile broken]\ncredential_process = ${script} --key ${SECRET}\n`,
    );
    const error = await rejection(
      createCredentialChain(isolatedEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: 'broken' }))(),
    );
    expect(error.message).toBe('credential_process of profile "broken" exited with code 3');
  });

  it.each([
    {
      case: 'assume role',
      lines: ['role_arn = arn:aws:iam::123456789012:role/r', 'source_profile = base'],
      key: 'role_arn',
    },
    {
      case: 'role with static keys too',
      lines: [
        'role_arn = arn:aws:iam::123456789012:role/r',
        'aws_access_key_id = AKID',
        `aws_secret_access_key = ${SECRET}`,
      ],
      key: 'role_arn',
    },
    {
      case: 'web identity',
      lines: ['role_arn = arn:aws:iam::1:role/r', 'web_identity_token_file = /t'],
      key: 'role_arn',
    },
    {
      case: 'SSO session',
      lines: ['sso_session = corp', 'sso_account_id = 123456789012'],
      key: 'sso_session',
    },
    {
      case: 'legacy SSO',
      lines: ['sso_start_url = https://x.awsapps.com/start', 'sso_region = us-east-1'],
      key: 'sso_start_url',
    },
  ])('fails on an unsupported profile ($case), naming the profile and the key', async ({ lines, key }) => {
    const config = file(`config-${key}`, ['[profile fancy]', ...lines].join('\n'));
    const error = await rejection(
      createCredentialChain(isolatedEnv({ AWS_CONFIG_FILE: config, AWS_PROFILE: 'fancy' }))(),
    );
    expect(error.message).toContain(`profile "fancy" sets ${key}`);
    expect(error.message).toContain(config);
  });

  it('fails on web identity in the environment rather than skipping it', async () => {
    const error = await rejection(
      createCredentialChain(isolatedEnv({ AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/t' }))(),
    );
    expect(error.message).toMatch(/AWS_WEB_IDENTITY_TOKEN_FILE .*not support/);
  });
});

describe('nothing configured', () => {
  it('lists every source it tried', async () => {
    const error = await rejection(createCredentialChain(isolatedEnv({ AWS_PROFILE: 'absent' }))());
    expect(error.name).toBe('AwsCredentialsError');
    expect(error.message).toMatch(
      /^no AWS credentials found; tried: environment .*; shared files \(profile "absent" not in/,
    );
    expect(error.message).toMatch(/container .*; instance metadata \(AWS_EC2_METADATA_DISABLED=true\)$/);
  });

  it('gives up on an unreachable instance metadata endpoint within about a second', async () => {
    const env = isolatedEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    delete env.AWS_EC2_METADATA_DISABLED;
    const started = Date.now();
    const error = await rejection(createCredentialChain(env)());
    expect(Date.now() - started).toBeLessThan(1500);
    expect(error.message).toMatch(
      /instance metadata at http:\/\/127\.0\.0\.1:\d+ \(token: connect ECONNREFUSED/,
    );
  });
});

/** IMDSv2 as EC2 serves it, strict: a token from PUT (with its TTL header) is required for every GET. */
async function startFakeImds(clock: () => number, lifetimeMs: number) {
  const state = { tokenPuts: 0, credentialGets: 0, unauthorized: 0 };
  const token = 'imds-session-token';
  const url = await listen((req, res) => {
    const reply = (status: number, body = ''): void => {
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    };
    if (req.url === '/latest/api/token') {
      if (req.method !== 'PUT' || req.headers['x-aws-ec2-metadata-token-ttl-seconds'] !== '21600')
        return reply(400);
      state.tokenPuts++;
      return reply(200, token);
    }
    if (req.method !== 'GET' || req.headers['x-aws-ec2-metadata-token'] !== token) {
      state.unauthorized++;
      return reply(401);
    }
    if (req.url === '/latest/meta-data/iam/security-credentials/') return reply(200, 'shipper-role\n');
    if (req.url === '/latest/meta-data/iam/security-credentials/shipper-role') {
      state.credentialGets++;
      return reply(
        200,
        JSON.stringify({
          Code: 'Success',
          Type: 'AWS-HMAC',
          AccessKeyId: `ASIAIMDS${state.credentialGets}`,
          SecretAccessKey: SECRET,
          Token: TOKEN,
          Expiration: new Date(clock() + lifetimeMs).toISOString(),
        }),
      );
    }
    return reply(404);
  });
  return { url, state };
}

describe('instance metadata (IMDSv2)', () => {
  it('times out on an endpoint that accepts connections and never answers', async () => {
    const url = await listen(() => {});
    const env = isolatedEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: url });
    delete env.AWS_EC2_METADATA_DISABLED;
    const started = Date.now();
    const error = await rejection(createCredentialChain(env, { metadataTimeoutMs: 200 })());
    expect(Date.now() - started).toBeLessThan(1000);
    expect(error.message).toMatch(/instance metadata at .*\(token: response timeout after 200 ms\)$/);
  });

  it('uses the token flow and refreshes five minutes before expiration', async () => {
    let now = Date.parse('2026-11-26T12:00:00Z');
    const clock = (): number => now;
    const imds = await startFakeImds(clock, 10 * 60_000);
    const env = isolatedEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: `${imds.url}/` });
    delete env.AWS_EC2_METADATA_DISABLED;
    const chain = createCredentialChain(env, { now: clock });

    const first = await chain();
    expect(first).toMatchObject({ accessKeyId: 'ASIAIMDS1', secretAccessKey: SECRET, sessionToken: TOKEN });
    expect(first.expiration?.toISOString()).toBe('2026-11-26T12:10:00.000Z');

    now += 4 * 60_000; // 6 minutes left: still fresh
    await Promise.all([chain(), chain()]);
    expect(imds.state.credentialGets).toBe(1);

    now += 2 * 60_000; // 4 minutes left: inside the refresh window; concurrent callers share one fetch
    const [a, b] = await Promise.all([chain(), chain()]);
    expect([a.accessKeyId, b.accessKeyId]).toEqual(['ASIAIMDS2', 'ASIAIMDS2']);
    expect(imds.state).toEqual({ tokenPuts: 2, credentialGets: 2, unauthorized: 0 });
  });

  it('keeps valid credentials when a refresh fails', async () => {
    let now = Date.parse('2026-11-26T12:00:00Z');
    const clock = (): number => now;
    const imds = await startFakeImds(clock, 10 * 60_000);
    const env = isolatedEnv({ AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url });
    delete env.AWS_EC2_METADATA_DISABLED;
    const chain = createCredentialChain(env, { now: clock });
    await chain();
    await new Promise((resolve) => servers[0]?.close(resolve));
    now += 7 * 60_000;
    expect((await chain()).accessKeyId).toBe('ASIAIMDS1');
    now += 4 * 60_000; // expired now
    const error = await rejection(chain());
    expect(error.message).toMatch(/no AWS credentials found.*instance metadata/);
  });

  it('the fake really refuses a GET without the session token', async () => {
    const imds = await startFakeImds(Date.now, 60_000);
    const status = await new Promise<number>((resolve, reject) => {
      request(`${imds.url}/latest/meta-data/iam/security-credentials/`, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(401);
  });
});

describe('container endpoint', () => {
  async function startFakeContainerEndpoint(expectedAuthorization: string) {
    const seen: Array<string | undefined> = [];
    const url = await listen((req, res) => {
      seen.push(req.headers.authorization);
      if (req.url !== '/v2/credentials' || req.headers.authorization !== expectedAuthorization) {
        res.writeHead(401).end('{"message":"bad token"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          AccessKeyId: 'ASIACONTAINER',
          SecretAccessKey: SECRET,
          Token: TOKEN,
          Expiration: '2031-01-01T00:00:00Z',
        }),
      );
    });
    return { url: `${url}/v2/credentials`, seen };
  }

  it('sends the token from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (it wins over the variable)', async () => {
    const authorization = `Bearer ${SECRET}`;
    const endpoint = await startFakeContainerEndpoint(authorization);
    const tokenFile = file('container-token', `${authorization}\n`);
    const chain = createCredentialChain(
      isolatedEnv({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: 'not-this-one',
      }),
    );
    expect(await chain()).toEqual({
      accessKeyId: 'ASIACONTAINER',
      secretAccessKey: SECRET,
      sessionToken: TOKEN,
      expiration: new Date('2031-01-01T00:00:00Z'),
    });
    expect(endpoint.seen).toEqual([authorization]);
  });

  it('fails (without falling back to instance metadata) when the endpoint refuses the token', async () => {
    const endpoint = await startFakeContainerEndpoint('Bearer right');
    const chain = createCredentialChain(
      isolatedEnv({
        AWS_CONTAINER_CREDENTIALS_FULL_URI: endpoint.url,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: SECRET,
      }),
    );
    const error = await rejection(chain());
    expect(error.message).toMatch(/^container credentials at 127\.0\.0\.1:\d+: HTTP 401$/);
  });

  it('refuses plain http to a host that is not loopback or the ECS/EKS address', async () => {
    const error = await rejection(
      createCredentialChain(
        isolatedEnv({ AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://example.com/creds' }),
      )(),
    );
    expect(error.message).toMatch(/must be https/);
  });
});
