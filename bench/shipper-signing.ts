/**
 * The shipper's own SigV4 signer and credential chain (shipper/sqs/sigv4.ts, shipper/credentials/)
 * against the AWS SDK's (@smithy/signature-v4 + @aws-sdk/credential-provider-node). Builds the
 * shipper four times (own; the SDK's signer; the SDK's chain; both: bench/shipper-sdk/ stands in
 * for the swapped modules), then runs the bundles alternately against fauxqs on 127.0.0.1 with
 * credentials from a shared credentials file (so each chain walks past the environment and reads
 * a profile), and prints per run and as medians: records/s and peak RSS at full rate (N records), peak RSS at low volume (a
 * 1,000-record run: the floor the chain's code adds to), bundle size, and SDK/own ratios.
 *
 *   node --import tsx bench/shipper-signing.ts [--records 1000000] [--rounds 3]
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Plugin } from 'esbuild';
import { bundleShipper } from '../scripts/shipper-bundle.js';
import { signRequest } from '../shipper/sqs/sigv4.ts';
import { startSqsServer, TEST_CREDENTIALS } from '../test/support/sqs-server.ts';
import { type ChildRun, fmt, parseStats, runChild, writeInput } from './shipper-child.ts';
import { signRequest as sdkSignRequest } from './shipper-sdk/sdk-sigv4.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const ROOT = join(import.meta.dirname, '..');
const OUT = join(ROOT, 'bench/out');
const RUN_LIMIT_MS = 5 * 60_000;
const LOW_VOLUME_RECORDS = 1000;

interface Variant {
  name: string;
  swap: { signer: boolean; chain: boolean };
  bundle: string;
  full: ChildRun[];
  low: ChildRun[];
}

/** Swaps the signer and/or the credential chain for the SDK's (bench/shipper-sdk/). */
function sdkSigningPlugin(swap: { signer: boolean; chain: boolean }): Plugin {
  const swapped = new Set<string>();
  const expected = Number(swap.signer) + Number(swap.chain);
  return {
    name: 'sdk-signing',
    setup(build) {
      build.onResolve({ filter: /\/sigv4\.ts$/ }, (args) => {
        if (!swap.signer || !args.importer.endsWith('sqs/sqs-client.ts')) return undefined;
        swapped.add('sigv4');
        return { path: join(ROOT, 'bench/shipper-sdk/sdk-sigv4.ts') };
      });
      build.onResolve({ filter: /\/aws-credentials\.ts$/ }, (args) => {
        if (!swap.chain || !args.importer.endsWith('sqs/queue-api.ts')) return undefined;
        swapped.add('credentials');
        return { path: join(ROOT, 'bench/shipper-sdk/sdk-credentials.ts') };
      });
      // The SDK signer is asynchronous: the client awaits it (one microtask per request).
      build.onLoad({ filter: /shipper\/sqs\/sqs-client\.ts$/ }, (args) => {
        if (!swap.signer) return undefined;
        const source = readFileSync(args.path, 'utf8');
        const contents = source.replace('const signed = signRequest(', 'const signed = await signRequest(');
        if (contents === source) throw new Error('sqs-client.ts no longer calls signRequest as expected');
        return { contents, loader: 'ts' };
      });
      build.onEnd(() => {
        if (swapped.size !== expected)
          throw new Error(`SDK variant swapped only: ${[...swapped].join(', ')}`);
      });
    },
  };
}

/** The SDK variant must sign as the shipper does (with its extra payload-hash header signed too). */
async function checkSameSignature(): Promise<void> {
  const body = [Buffer.from('{"QueueUrl":"q","Entries":['), Buffer.from('{"Id":"m1","MessageBody":"é"}]}')];
  const request = {
    method: 'POST',
    url: 'https://sqs.eu-west-1.amazonaws.com/',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessageBatch' },
    body,
  };
  const scope = {
    region: 'eu-west-1',
    service: 'sqs',
    credentials: { ...TEST_CREDENTIALS, sessionToken: 'token/with+slashes=' },
    date: new Date('2026-12-06T05:00:00Z'),
  };
  const sdk = (await sdkSignRequest(request, scope)) as unknown as Record<string, string>;
  const hash = sdk['x-amz-content-sha256'] as string;
  const own = signRequest(
    { ...request, headers: { ...request.headers, 'x-amz-content-sha256': hash } },
    scope,
  );
  if (own.authorization !== sdk.authorization)
    throw new Error(`the SDK variant signs differently:\n${own.authorization}\n${sdk.authorization}`);
}

/** A profile in a shared credentials file, and nothing in the environment. */
function profileEnv(): NodeJS.ProcessEnv {
  const dir = join(OUT, 'aws');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'credentials'),
    `[default]\naws_access_key_id = ${TEST_CREDENTIALS.accessKeyId}\naws_secret_access_key = ${TEST_CREDENTIALS.secretAccessKey}\n`,
  );
  writeFileSync(join(dir, 'config'), '[default]\nregion = us-east-1\n');
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('AWS_')) env[k] = v;
  return {
    ...env,
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'credentials'),
    AWS_CONFIG_FILE: join(dir, 'config'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

async function inputOf(records: number): Promise<string> {
  const path = join(OUT, `acct-${records}.csv`);
  if (!existsSync(path)) await writeInput(path, records);
  return path;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { records: { type: 'string', default: '1000000' }, rounds: { type: 'string', default: '3' } },
  });
  const records = Number(values.records);
  const rounds = Number(values.rounds);
  await checkSameSignature();
  const variants: Variant[] = [
    { name: 'own signer + own chain', swap: { signer: false, chain: false } },
    { name: 'SDK signer + own chain', swap: { signer: true, chain: false } },
    { name: 'own signer + SDK chain', swap: { signer: false, chain: true } },
    { name: 'SDK signer + SDK chain', swap: { signer: true, chain: true } },
  ].map((v, i) => ({ ...v, bundle: join(OUT, `pmta-shipper-signing-${i}.js`), full: [], low: [] }));
  for (const v of variants) await bundleShipper(v.bundle, [sdkSigningPlugin(v.swap)]);
  const [input, lowInput] = [await inputOf(records), await inputOf(LOW_VOLUME_RECORDS)];
  const env = profileEnv();
  const loadBefore = loadavg()[0]?.toFixed(1);
  const sqs = await startSqsServer();
  const spool = join(OUT, 'spool-signing');
  try {
    const runOnce = async (v: Variant, n: number, file: string): Promise<ChildRun> => {
      const queueUrl = await sqs.createQueue(`signing-${variants.indexOf(v)}-${v.full.length}-${n}`);
      rmSync(spool, { recursive: true, force: true, maxRetries: 5 });
      const args = ['--queue-url', queueUrl, '--endpoint-url', sqs.endpoint, '--spool-dir', spool];
      args.push('--drain-timeout-ms', '50000');
      const run = await runChild(
        v.bundle,
        [...args, '--stats-interval-ms', '0'],
        file,
        RUN_LIMIT_MS,
        undefined,
        env,
      );
      const sent = parseStats(run.stderr).sent;
      if (sent !== n) throw new Error(`${v.name} sent ${sent} of ${n} records:\n${run.stderr}`);
      return run;
    };
    for (let round = 0; round < rounds; round++) {
      for (const v of round % 2 === 0 ? variants : [...variants].reverse()) {
        v.full.push(await runOnce(v, records, input));
        v.low.push(await runOnce(v, LOW_VOLUME_RECORDS, lowInput));
      }
    }
  } finally {
    await sqs.stop();
  }
  report(variants, records, rounds, loadBefore);
}

function report(variants: Variant[], records: number, rounds: number, loadBefore: string | undefined): void {
  const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;
  const lines = [
    `Shipper signing benchmark — ${records} records, ${rounds} rounds alternating, credentials from a shared credentials file, fauxqs on 127.0.0.1, node ${process.version}, ${availableParallelism()} cores, load average at start ${loadBefore}, at end ${loadavg()[0]?.toFixed(1)}`,
  ];
  const summary = variants.map((v) => {
    const rates = v.full.map((r) => records / (r.ms / 1000));
    for (const [i, r] of v.full.entries())
      lines.push(
        `  ${v.name} run ${i + 1}: ${fmt(rates[i] as number)} records/s, peak RSS ${mb(r.peakRssKb)}, CPU ${((r.cpuMs * 1000) / records).toFixed(1)} µs/record; ${LOW_VOLUME_RECORDS} records: peak RSS ${mb((v.low[i] as ChildRun).peakRssKb)}`,
      );
    return {
      rate: median(rates),
      rss: median(v.full.map((r) => r.peakRssKb)),
      lowRss: median(v.low.map((r) => r.peakRssKb)),
      bytes: statSync(v.bundle).size,
    };
  });
  for (const [i, v] of variants.entries()) {
    const s = summary[i] as (typeof summary)[number];
    lines.push(
      `${v.name} (median): ${fmt(s.rate)} records/s, peak RSS ${mb(s.rss)} at full rate, ${mb(s.lowRss)} at ${LOW_VOLUME_RECORDS} records, bundle ${fmt(s.bytes / 1024)} KB`,
    );
  }
  const own = summary[0] as (typeof summary)[number];
  for (const [i, v] of variants.entries()) {
    if (i === 0) continue;
    const s = summary[i] as (typeof summary)[number];
    lines.push(
      `${v.name} / own: records/s ×${(s.rate / own.rate).toFixed(2)}, peak RSS at full rate ${((s.rss - own.rss) / 1024).toFixed(1)} MB (×${(s.rss / own.rss).toFixed(2)}), at low volume ${((s.lowRss - own.lowRss) / 1024).toFixed(1)} MB, bundle ×${(s.bytes / own.bytes).toFixed(1)}`,
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
