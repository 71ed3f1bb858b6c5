/**
 * What the functions print as CloudWatch EMF, read back as CloudWatch would: every value keeps the
 * dimensions it was recorded with (ProviderLatency per Provider, however many samples), one blob
 * per dimension set, no Powertools warning lines; "gave up" (ActionsFailed) is counted on the
 * receive after which nothing retries the action; the cold-start Metrics object stays silent when
 * it holds nothing.
 */
import type { SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ColdStartMetrics, createEmfMetricSink } from '#adapters/cloudwatch/metric-sink.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import type { Action } from '#core/act/action.ts';
import { type ActDeps, runActionsBatch } from '#lambda/act/act.ts';
import { DIMENSIONS, METRIC_NAMESPACE, METRICS } from '#lambda/metric-names.ts';
import { MemoryListProvider } from '#test/support/memory-list-provider.ts';
import { silentLog } from '#test/support/silent-log.ts';

const SERVICE = 'pmta-bounce-act';

interface EmfBlob {
  _aws: {
    CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string }> }>;
  };
  [key: string]: unknown;
}

let lines: string[] = [];
beforeEach(() => {
  lines = [];
  vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'false');
  vi.stubEnv('POWERTOOLS_DEV', '');
  const keep = (chunk: unknown): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
    lines.push(...text.split('\n').filter(Boolean));
    return true;
  };
  vi.spyOn(process.stdout, 'write').mockImplementation(keep);
  vi.spyOn(process.stderr, 'write').mockImplementation(keep);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

function blobs(): EmfBlob[] {
  return lines.filter((l) => l.includes('"_aws"')).map((l) => JSON.parse(l) as EmfBlob);
}

/** [metric, its dimension values, its values] for every metric of every blob, as CloudWatch reads them. */
function samples(): Array<{ name: string; dimensions: Record<string, unknown>; values: number[] }> {
  return blobs().flatMap((blob) => {
    const [directive] = blob._aws.CloudWatchMetrics;
    expect(directive!.Namespace).toBe(METRIC_NAMESPACE);
    expect(directive!.Dimensions).toHaveLength(1);
    const dimensions = Object.fromEntries(directive!.Dimensions[0]!.map((d) => [d, blob[d]]));
    return directive!.Metrics.map((m) => {
      const raw = blob[m.Name];
      return { name: m.Name, dimensions, values: (Array.isArray(raw) ? raw : [raw]) as number[] };
    });
  });
}

describe('EMF metric sink', () => {
  it('publishes every sample with its dimensions, one blob per dimension set, without warnings', () => {
    const sink = createEmfMetricSink({ namespace: METRIC_NAMESPACE, serviceName: SERVICE });
    const latency = (provider: string, n: number) => {
      for (let i = 0; i < n; i += 1)
        sink.timing(METRICS.providerLatency, { [DIMENSIONS.provider]: provider }, 100 + i);
    };
    latency('mw', 150); // more than the 100 values EMF takes per metric in one blob
    latency('iem', 3);
    sink.count(METRICS.providerCalls, { [DIMENSIONS.provider]: 'mw' }, 150);
    sink.count(METRICS.providerOutcomes, { [DIMENSIONS.provider]: 'mw', [DIMENSIONS.outcome]: 'done' }, 2);
    sink.count(METRICS.rejects, {}, 4);
    sink.flush();

    const all = samples();
    const latencyOf = (p: string) =>
      all
        .filter((s) => s.name === METRICS.providerLatency && s.dimensions.Provider === p)
        .flatMap((s) => s.values);
    expect(latencyOf('mw')).toHaveLength(150);
    expect(latencyOf('mw').sort((a, b) => a - b)).toEqual(Array.from({ length: 150 }, (_, i) => 100 + i));
    expect(latencyOf('iem')).toEqual([100, 101, 102]);
    // No value lost its dimension on the way.
    for (const s of all) expect(s.dimensions.service, s.name).toBe(SERVICE);
    for (const s of all.filter((x) => x.name.startsWith('Provider')))
      expect(s.dimensions.Provider, s.name).toBeDefined();
    // The calls and the latency of one provider share a blob; rejects have only `service`.
    expect(all.find((s) => s.name === METRICS.providerCalls)).toMatchObject({ values: [150] });
    expect(all.find((s) => s.name === METRICS.rejects)).toMatchObject({
      dimensions: { service: SERVICE },
      values: [4],
    });
    expect(blobs().length).toBeLessThanOrEqual(5); // mw (2: 100 + 50 values), iem, outcomes, rejects
    expect(lines.filter((l) => !l.includes('"_aws"'))).toEqual([]);

    lines = [];
    sink.flush(); // nothing recorded since: nothing printed, no warning
    expect(lines).toEqual([]);
  });

  it('the cold-start metrics object publishes nothing and warns nothing when empty', () => {
    vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand'); // as Lambda sets it
    const metrics = new ColdStartMetrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE });
    metrics.publishStoredMetrics();
    expect(lines).toEqual([]);
    for (let invocation = 0; invocation < 2; invocation += 1) {
      metrics.captureColdStartMetric('act'); // what logMetrics({ captureColdStartMetric: true }) calls
      metrics.publishStoredMetrics();
    }
    expect(samples().map((s) => s.name)).toEqual(['ColdStart']); // the first invocation only
    expect(lines.filter((l) => !l.includes('"_aws"'))).toEqual([]);
  });
});

describe('ActionsFailed ("gave up")', () => {
  const MAX_RECEIVES = 3;
  const record = (receives: number): SQSRecord => ({
    messageId: `m${receives}`,
    receiptHandle: `rh${receives}`,
    body: JSON.stringify({
      v: 1,
      id: 'gone@example.com',
      subject: 'gone@example.com',
      target: { type: 'email', address: 'gone@example.com' },
      kind: 'bounce',
      reason: 'hard',
      providers: ['mem'],
    } satisfies Action),
    attributes: {
      ApproximateReceiveCount: String(receives),
      SentTimestamp: '1',
      SenderId: 'x',
      ApproximateFirstReceiveTimestamp: '1',
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:actions',
    awsRegion: 'us-east-1',
  });

  async function runOnce(receives: number): Promise<number[]> {
    const provider = new MemoryListProvider({ id: 'mem' });
    provider.failNext('transient');
    const sqlite = new SqliteSuppressionStore({ path: ':memory:' });
    const deps: ActDeps = {
      providers: new Map([['mem', provider]]),
      store: Object.assign(sqlite, { providersDone: async () => [] }),
      claims: { claim: async () => 'claimed', complete: async () => {}, release: async () => {} },
      visibility: { delay: async () => {} },
      metrics: createEmfMetricSink({ namespace: METRIC_NAMESPACE, serviceName: SERVICE }),
      log: silentLog,
      now: () => 1_764_000_000_000,
      maxReceiveCount: MAX_RECEIVES,
    };
    lines = [];
    const [out] = await runActionsBatch({ Records: [record(receives)] }, deps);
    expect(out?.status).toBe('rejected'); // retryable: the message returns (and, last time, goes to the DLQ)
    return samples()
      .filter((s) => s.name === METRICS.actionsFailed && s.dimensions.Provider === 'mem')
      .flatMap((s) => s.values);
  }

  it('is counted on the last receive before the DLQ, not on the earlier ones', async () => {
    expect(await runOnce(1)).toEqual([]);
    expect(await runOnce(MAX_RECEIVES - 1)).toEqual([]);
    expect(await runOnce(MAX_RECEIVES)).toEqual([1]);
  });
});
