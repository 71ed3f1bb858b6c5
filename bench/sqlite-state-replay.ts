/**
 * What the SQLite state costs `process`, apart from reading and deciding:
 *
 *   node --import tsx bench/sqlite-state-replay.ts FILE [--runs 3]
 *
 * Reads and decides FILE once (state in memory), recording every call `process` makes on the state
 * (suppress, soft bounces, deliveries, audit, the traffic rows written after each commit), then
 * replays exactly those calls against a fresh state file, as `process` does them: batches of 1,000
 * records, a commit every 50,000, the traffic rows after each commit, the guardrails' read at the
 * end. Prints CPU and wall microseconds per record for each run, and the state file's size. The
 * baseline is the same replay against the in-memory state (`:memory:`, no syncs) in the same run.
 */
import { createReadStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteSuppressionStore } from '../functions/adapters/sqlite/sqlite-suppression-store.ts';
import { SqliteTrafficStore } from '../functions/adapters/sqlite/sqlite-traffic-store.ts';
import { loadConfigFile } from '../functions/cli/config-file.ts';
import { createAccountingReader } from '../functions/core/accounting/accounting-reader.ts';
import { BUILTIN_RULES } from '../functions/core/classify/builtin-rules.ts';
import { createClassifier } from '../functions/core/classify/classify.ts';
import { decideRecords } from '../functions/core/decide/decide-records.ts';
import { createRouter } from '../functions/core/decide/routing.ts';
import { createMailboxProviderTable } from '../functions/core/guardrails/mailbox-provider.ts';
import { tallyRecords } from '../functions/core/guardrails/tally-records.ts';
import { type TrafficRow, TrafficTally } from '../functions/core/guardrails/traffic.ts';
import type { ParseOutcome } from '../functions/core/mail-event.ts';
import type { SuppressionStore } from '../functions/core/ports.ts';

const BATCH = 1000;
const COMMIT = 50_000;
type Call = { method: keyof SuppressionStore; args: unknown[] };
/** Per batch: its store calls; after a commit, the traffic rows written then. */
type Step = { calls: Call[]; records: number; traffic?: TrafficRow[] };

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { runs: { type: 'string', default: '3' } },
});
const file = positionals[0];
if (!file) throw new Error('usage: sqlite-state-replay.ts FILE [--runs N]');

/** Decides FILE against an in-memory state, recording the state calls batch by batch. */
async function capture(): Promise<Step[]> {
  const { config } = loadConfigFile(undefined, {});
  const real = new SqliteSuppressionStore({ path: ':memory:' });
  const steps: Step[] = [];
  let calls: Call[] = [];
  const recording = new Proxy(real, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'status' || prop === 'close') return value;
      return (...args: unknown[]) => {
        calls.push({ method: prop as keyof SuppressionStore, args });
        return value.apply(target, args);
      };
    },
  });
  const providers = createMailboxProviderTable(config.guardrails.mailboxProviders);
  const hard = new Set<string>(config.policy.hardCategories);
  let tally = new TrafficTally(providers);
  let uncommitted = 0;
  const deps = {
    classifier: createClassifier({ builtin: BUILTIN_RULES, operator: config.classification.rules }),
    policy: config.policy,
    router: createRouter(config.providers),
    store: recording as SuppressionStore,
    now: () => Date.now(),
  };
  const decide = async (outcomes: ParseOutcome[], last: boolean) => {
    const result = await decideRecords(outcomes, deps);
    tallyRecords(outcomes, result.rows, tally, hard);
    const step: Step = { calls, records: outcomes.length };
    calls = [];
    uncommitted += outcomes.length;
    if (uncommitted >= COMMIT || last) {
      step.traffic = tally.entries();
      tally = new TrafficTally(providers);
      uncommitted = 0;
    }
    steps.push(step);
  };
  const batch: ParseOutcome[] = [];
  const reader = createAccountingReader({ fields: config.accounting.fields }, (o) => batch.push(o));
  for await (const chunk of createReadStream(file!, { highWaterMark: 256 * 1024 })) {
    reader.write(chunk as Buffer);
    if (batch.length >= BATCH) await decide(batch.splice(0), false);
  }
  reader.end();
  await decide(batch.splice(0), true);
  await real.close();
  return steps;
}

/** Replays the steps against a fresh state at `path`: CPU and wall µs per record. */
async function replay(steps: readonly Step[], path: string) {
  const started = performance.now();
  const cpu = process.cpuUsage();
  const store = new SqliteSuppressionStore({ path });
  const traffic = new SqliteTrafficStore(path);
  let records = 0;
  for (const step of steps) {
    store.openBatch();
    for (const call of step.calls)
      await (store[call.method] as (...a: unknown[]) => unknown).apply(store, call.args);
    records += step.records;
    if (step.traffic) {
      store.commitBatch();
      await traffic.addTraffic(step.traffic);
    }
  }
  await traffic.trafficRows(0, Number.MAX_SAFE_INTEGER);
  await traffic.close();
  await store.close();
  const used = process.cpuUsage(cpu);
  const us = (n: number) => ((n / records) * 1).toFixed(2);
  return { records, cpuUs: us(used.user + used.system), wallUs: us((performance.now() - started) * 1000) };
}

const steps = await capture();
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-state-replay-'));
try {
  console.log('| run | records | CPU µs/record | wall µs/record | state MB |');
  console.log('|---|---:|---:|---:|---:|');
  const memory = await replay(steps, ':memory:');
  console.log(`| in memory (baseline) | ${memory.records} | ${memory.cpuUs} | ${memory.wallUs} | |`);
  for (let run = 1; run <= Number(values.runs); run++) {
    const path = join(dir, `state-${run}.db`);
    const r = await replay(steps, path);
    const mb = (statSync(path).size / 1e6).toFixed(1);
    console.log(`| state file, run ${run} | ${r.records} | ${r.cpuUs} | ${r.wallUs} | ${mb} |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
