/**
 * The deliverability counts through the cloud path: the generated scenario shipped as envelopes →
 * fauxqs → the real ingest handler → dynalite, then `pmta-bounce report --table` (the real bin) on
 * that table. Every message is sent twice (an SQS redelivery): the counts must not double.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '#sandbox/runtime.ts';
import { envelopeEncoder, queueDepth, sendEnvelope } from '#test/support/sandbox-records.ts';
import { trafficScenario } from '#test/support/traffic-scenario.ts';

const ROOT = join(import.meta.dirname, '../..');
const BIN = join(ROOT, 'bin/pmta-bounce.js');
const scenario = trafficScenario();
let sandbox: Sandbox;
const errors: string[] = [];

async function drained(ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await queueDepth(sandbox.context.sqs, sandbox.context.records.url)) === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`records queue did not drain; sandbox errors: ${errors.join(' | ')}`);
}

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  sandbox = await startSandbox({
    configDocument: {},
    visibilityTimeoutSeconds: 5,
    maxReceiveCount: 3,
    onError: (source, error) =>
      errors.push(`${source}: ${error instanceof Error ? error.message : String(error)}`),
  });
  const encode = envelopeEncoder('traffic');
  for (const { header, lines } of scenario.sections) {
    // Several messages per section, each sent twice.
    for (let i = 0; i < lines.length; i += 1500) {
      const message = await encode(lines.slice(i, i + 1500), header);
      await sendEnvelope(sandbox.context.sqs, sandbox.context.records.url, message);
      await sendEnvelope(sandbox.context.sqs, sandbox.context.records.url, message);
    }
  }
  await drained();
}, 90_000);

afterAll(async () => {
  await sandbox?.stop();
});

describe('report --table on the sandbox', () => {
  it('gives exactly the generated counts, rates and guardrails', async () => {
    // Async: the emulators answer from this process's event loop.
    const run = await promisify(execFile)(
      process.execPath,
      [
        BIN,
        'report',
        '--table',
        sandbox.context.table,
        '--endpoint',
        sandbox.context.dynamodbEndpoint,
        '--region',
        sandbox.context.region,
        '--since',
        '2026-11-20',
        '--until',
        '2026-11-21',
        '--json',
      ],
      {
        cwd: ROOT,
        timeout: 60_000,
        env: {
          ...process.env,
          PMTA_BOUNCE_CONFIG: '',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
        },
      },
    );
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout);
    for (const [domain, counts] of Object.entries(scenario.expected.sendingDomains)) {
      const g = report.sendingDomains.find((x: { name: string }) => x.name === domain);
      const blocks = Object.values(g.blocks as Record<string, number>).reduce((a, b) => a + b, 0);
      expect({
        domain,
        deliveries: g.deliveries,
        hardBounces: g.hardBounces,
        softBounces: g.softBounces,
        complaints: g.complaints,
        blocks,
      }).toEqual({ domain, ...counts });
    }
    expect(report.guardrails).toMatchObject(scenario.expected.guardrails);
    expect(report.guardrails).toHaveLength(scenario.expected.guardrails.length);
    expect(errors).toEqual([]);
  });
});
