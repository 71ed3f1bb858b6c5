/**
 * `npm run bench:serve [-- REQUESTS [CONCURRENCY]]`: one-click POSTs against the real
 * `pmta-bounce serve` process (SQLite state at synchronous=FULL, the MailWizz adapter calling the
 * protocol fake in the background), on loopback. Baseline in the same run: GET /healthz on the same
 * server (HTTP and the event loop, no state). Prints requests/s, p50/p99 latency and the ratio.
 * Bounded: REQUESTS per phase (default 5000) and 60 s per phase at most.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import { signUnsubscribeToken } from '#core/unsubscribe/unsubscribe-token.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { eventually, spawnServe } from '#test/support/serve-process.ts';

const REQUESTS = Number(process.argv[2] ?? 5000);
const CONCURRENCY = Number(process.argv[3] ?? 16);
const PHASE_LIMIT_MS = 60_000;
const KEY = { id: 'k1', secret: 'b'.repeat(48) };
const API_KEY = 'f'.repeat(40);
const BODY = 'List-Unsubscribe=One-Click';

interface Phase {
  name: string;
  requests: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
}

function once(agent: Agent, url: URL, method: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = body
      ? { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) }
      : {};
    const req = request(url, { agent, method, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function phase(name: string, urls: readonly URL[], method: string, body?: string): Promise<Phase> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const latencies: number[] = [];
  const statuses: Record<number, number> = {};
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < urls.length && performance.now() - started < PHASE_LIMIT_MS) {
      const url = urls[next++]!;
      const t = performance.now();
      const status = await once(agent, url, method, body);
      latencies.push(performance.now() - t);
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Number(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!.toFixed(2));
  return {
    name,
    requests: latencies.length,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(latencies.length / seconds),
    p50: at(0.5),
    p99: at(0.99),
    statuses,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-bench-serve-'));
  const fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: API_KEY });
  const list = fake.addList('Bench');
  const campaign = fake.addCampaign();
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      'providers:',
      `  - { id: mw, type: mailwizz, url: "${fake.url}", apiKey: "${API_KEY}", maxRetries: 0 }`,
      'unsubscribe:',
      `  signing: { keys: [ { id: ${KEY.id}, secret: "${KEY.secret}" } ] }`,
      '  oneClick: { rateLimit: { perClient: 1000000, global: 10000000 } }',
      '',
    ].join('\n'),
  );
  const serve = await spawnServe(['--config', config, '--state', join(dir, 'state.db')], {});
  try {
    const tokens = Array.from({ length: REQUESTS }, (_, i) => {
      const subscriberId = fake.addSubscriber(list, `bench${i}@example.com`);
      return new URL(
        `${serve.url}/u/${signUnsubscribeToken({ subscriberId, listId: list, campaignId: campaign }, KEY, hmacSha256)}`,
      );
    });
    const health = Array.from({ length: REQUESTS }, () => new URL(`${serve.url}/healthz`));
    await phase('warm-up', health.slice(0, 500), 'GET');
    const baseline = await phase('baseline GET /healthz', health, 'GET');
    const oneClick = await phase('one-click POST (new)', tokens, 'POST', BODY);
    const repeat = await phase('one-click POST (repeat)', tokens, 'POST', BODY);
    const settled = await eventually(
      () => fake.subscribers.every((s) => s.status === 'unsubscribed'),
      120_000,
    );
    for (const p of [baseline, oneClick, repeat]) console.log(JSON.stringify(p));
    console.log(
      JSON.stringify({
        ratioOneClickToBaseline: Number((oneClick.perSecond / baseline.perSecond).toFixed(3)),
        concurrency: CONCURRENCY,
        loadAverage1m: Number(loadavg()[0]!.toFixed(1)),
        allUnsubscribedAtProvider: settled,
        target: { perSecond: 500, p99Ms: 50 },
        pass: oneClick.perSecond >= 500 && oneClick.p99 <= 50,
      }),
    );
  } finally {
    await serve.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
