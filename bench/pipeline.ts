/**
 * Pipeline benchmark in the sandbox: the real shipper (bin/pmta-shipper.js, child process) → fauxqs
 * → the ingest handler → dynalite → actions queue → the act handler → a webhook provider whose
 * receiver (127.0.0.1) answers after 20 ms. Prints:
 *   - burst: N hard bounces to distinct addresses written at once: records/s through ingest,
 *     actions/s through act;
 *   - paced: a steady stream well below capacity: PowerMTA-line-written → provider-call latency
 *     p50/p99 (goal p99 ≤ 5 s).
 *
 *   node --import tsx bench/pipeline.ts [--records 100000] [--rate 100] [--seconds 20] [--latency-ms 20]
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type Sandbox, startSandbox } from '#sandbox/runtime.ts';
import { ACCT_HEADER, bounceRecord } from '../test/support/builders.ts';
import { queueDepth } from '../test/support/sandbox-records.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
const ROOT = join(import.meta.dirname, '..');
/** Every wait below stops here at the latest. */
const RUN_LIMIT_MS = 30 * 60_000;

function bounceLine(n: number, prefix: string, now: number): string {
  return bounceRecord({
    rcpt: `${prefix}.${n}@example.net`,
    at: now,
    diag: '"smtp;550 5.1.1 user unknown"',
    size: 2345,
    job: 'bench-job',
    envId: `env${n}`,
  });
}

/** The provider's side: one POST per action; arrival time per address index. */
async function startReceiver(latencyMs: number) {
  const arrivals = new Map<string, number>();
  let calls = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const match = /"email":"([a-z]+\.\d+)@example\.net"/.exec(body);
      calls += 1;
      if (match && !arrivals.has(match[1]!)) arrivals.set(match[1]!, Date.now());
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"outcome":"done"}');
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    arrivals,
    calls: () => calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function startShipper(sandbox: Sandbox, spool: string) {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/pmta-shipper.js'),
      '--queue-url',
      sandbox.context.records.url,
      '--endpoint-url',
      sandbox.context.sqsEndpoint,
      '--region',
      sandbox.context.region,
      '--spool-dir',
      spool,
      '--stats-interval-ms',
      '0',
    ],
    {
      stdio: ['pipe', 'ignore', 'inherit'],
      env: { ...process.env, AWS_ACCESS_KEY_ID: 'sandbox', AWS_SECRET_ACCESS_KEY: 'sandbox' },
    },
  );
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? 1)));
  return { stdin: child.stdin, exited };
}

async function until(
  what: string,
  check: () => boolean | Promise<boolean>,
  limitMs = RUN_LIMIT_MS,
): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

function depth(sandbox: Sandbox, url: string): Promise<number> {
  return queueDepth(sandbox.context.sqs, url);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      records: { type: 'string', default: '100000' },
      rate: { type: 'string', default: '100' },
      seconds: { type: 'string', default: '20' },
      'latency-ms': { type: 'string', default: '20' },
    },
  });
  const records = Number(values.records);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const latencyMs = Number(values['latency-ms']);
  const receiver = await startReceiver(latencyMs);
  const spool = mkdtempSync(join(tmpdir(), 'pmta-bench-spool-'));
  const sandbox = await startSandbox({
    configDocument: {
      providers: [
        {
          id: 'hook',
          type: 'webhook',
          url: receiver.url,
          secret: `whsec_${randomBytes(24).toString('base64')}`,
          concurrency: 64,
        },
      ],
    },
    sqsPort: 0,
    dynamodbPort: 0,
    // As the stack sets the records queue (6x the 1 min ingest timeout): a shorter one redelivers
    // messages still being ingested under a burst, and each redelivery re-emits their actions.
    visibilityTimeoutSeconds: 360,
    emulatorProcesses: true,
    ingestConcurrency: 2,
    actConcurrency: 8,
    onError: (source, error) => console.error(`${source}: ${error instanceof Error ? error.message : error}`),
  });
  try {
    console.log(
      `pipeline bench: ${records} records burst, then ${rate}/s for ${seconds}s; provider latency ${latencyMs} ms`,
    );

    // Burst: throughput.
    const burst = startShipper(sandbox, join(spool, 'burst'));
    const t0 = Date.now();
    const chunk: string[] = [ACCT_HEADER];
    for (let i = 0; i < records; i += 1) {
      chunk.push(bounceLine(i, 'burst', t0));
      if (chunk.length >= 5000) {
        if (!burst.stdin.write(`${chunk.join('\n')}\n`))
          await new Promise((r) => burst.stdin.once('drain', r));
        chunk.length = 0;
      }
    }
    burst.stdin.end(chunk.length > 0 ? `${chunk.join('\n')}\n` : '');
    await burst.exited;
    const shipped = Date.now();
    await until(
      'ingest to drain the records queue',
      async () => (await depth(sandbox, sandbox.context.records.url)) === 0,
    );
    const ingested = Date.now();
    await until('every action to reach the provider', () => receiver.arrivals.size >= records);
    const acted = Date.now();
    const firstCall = Math.min(...[...receiver.arrivals.values()].slice(0, 1000));
    console.log(`  shipper: ${records} records shipped in ${((shipped - t0) / 1000).toFixed(1)} s`);
    console.log(
      `  ingest:  ${Math.round(records / ((ingested - t0) / 1000))} records/s (first line → records queue empty, ${((ingested - t0) / 1000).toFixed(1)} s)`,
    );
    console.log(
      `  act:     ${Math.round(records / ((acted - firstCall) / 1000))} actions/s (first → last provider call, ${((acted - firstCall) / 1000).toFixed(1)} s), ${receiver.calls()} provider calls`,
    );

    // Paced: latency.
    const paced = startShipper(sandbox, join(spool, 'paced'));
    paced.stdin.write(`${ACCT_HEADER}\n`);
    const written = new Map<string, number>();
    const total = rate * seconds;
    const tick = 50;
    const start = Date.now();
    for (let n = 0; n < total; ) {
      const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * rate) + 1);
      const now = Date.now();
      const lines: string[] = [];
      for (; n < due; n += 1) {
        lines.push(bounceLine(n, 'paced', now));
        written.set(`paced.${n}`, now);
      }
      if (lines.length > 0) paced.stdin.write(`${lines.join('\n')}\n`);
      await new Promise((r) => setTimeout(r, tick));
    }
    paced.stdin.end();
    await until('paced actions to reach the provider', () =>
      [...written.keys()].every((k) => receiver.arrivals.has(k)),
    );
    await paced.exited;
    const latencies = [...written].map(([k, at]) => receiver.arrivals.get(k)! - at).sort((a, b) => a - b);
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    console.log(
      `  latency: ${total} records at ${rate}/s: PowerMTA line → provider call p50 ${p50} ms, p99 ${p99} ms, max ${latencies.at(-1)} ms (goal p99 ≤ 5000 ms: ${p99 <= 5000 ? 'met' : 'NOT met'})`,
    );
    console.log(
      `  dlq: records ${await depth(sandbox, sandbox.context.records.dlqUrl)}, actions ${await depth(sandbox, sandbox.context.actions.dlqUrl)}`,
    );
  } finally {
    await sandbox.stop();
    await receiver.close();
    rmSync(spool, { recursive: true, force: true });
  }
}

await main();
