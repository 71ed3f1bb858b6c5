/**
 * `process` with its audit thread (sqlite-audit-thread.ts): decision entries past
 * PMTA_BOUNCE_AUDIT_THREAD_AFTER go to the decision file `<state>-audit`, and count only once the
 * state names their batch (sqlite-decision-file.ts). These runs are in-process, so the worker boots
 * from the TypeScript sources through tsx; process-audit-thread-bin.test.ts runs the built one (a spawned bin).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { generateAccountingLines } from '#test/support/builders.ts';
import { runCliText } from '#test/support/cli-run.ts';
import { decisionFileCounts, stateAgreement } from '#test/support/decision-file-state.ts';

const KEY = 'a'.repeat(40);
/** Provider outcome entries carry the clock: one frozen clock makes three runs comparable. */
const NOW = Date.now();
const RECORDS = 6000;

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-audit-thread-'));
const input = join(dir, 'acct.csv');
const config = join(dir, 'config.yaml');
let recipients: string[] = [];

/**
 * Hard and soft bounces (the soft ones escalate: 800 recipients over 6,000 records), ignored
 * sender-side blocks (spam-/policy-related), complaints and deliveries, in six decide batches.
 */
beforeAll(() => {
  const lines = [...generateAccountingLines(RECORDS, { seed: 14, recipients: 800 })];
  writeFileSync(input, `${lines.join('\n')}\n`);
  const seen = new Set<string>();
  for (const line of lines.slice(1)) seen.add(line.split(',')[4]!.toLowerCase());
  recipients = [...seen].sort();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh MailWizz per run (the same lists and subscribers): every run sees the same answers. */
async function startMailwizz(): Promise<FakeMailwizzServer> {
  const fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: KEY });
  const news = fake.addList('News');
  recipients.forEach((r, i) => {
    if (i % 3 !== 2) fake.addSubscriber(news, r, i % 7 === 0 ? 'unsubscribed' : 'confirmed');
  });
  return fake;
}

async function processWithThread(state: string, after: string) {
  const fake = await startMailwizz();
  try {
    writeFileSync(
      config,
      `providers:\n  - { id: mw, type: mailwizz, url: "${fake.url}", apiKey: "\${MW_KEY}" }\n`,
    );
    return await runCliText(['process', input, '--state', state, '--config', config, '--json'], {
      env: { MW_KEY: KEY, PMTA_BOUNCE_AUDIT_THREAD_AFTER: after },
      now: () => NOW,
    });
  } finally {
    await fake.close();
  }
}

async function statusJson(state: string, address: string): Promise<unknown> {
  const run = await runCliText(['status', address, '--state', state, '--json'], { now: () => NOW });
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout);
}

type Audit = Array<{ type: string; action: string; line?: number }>;

const states = {
  never: join(dir, 'never.db'),
  first: join(dir, 'first.db'),
  middle: join(dir, 'middle.db'),
};

describe('process with the audit thread', () => {
  const statuses = new Map<string, unknown[]>();
  const summaries: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    // Never (the default threshold is far above 6,000), from the first entry, from the third batch.
    for (const [state, after] of [
      [states.never, '1000000'],
      [states.first, '0'],
      [states.middle, '2500'],
    ] as const) {
      const run = await processWithThread(state, after);
      expect(run.code, run.stderr).toBe(0);
      summaries.push(JSON.parse(run.stdout));
    }
    for (const summary of summaries) expect(summary).toEqual(summaries[0]);
    // Every recipient through the store's status read (what `status` prints with --json), one
    // connection per state; a sample of them through the command itself below.
    const stores = Object.values(states).map((path) => new SqliteSuppressionStore({ path }));
    try {
      for (const address of recipients) {
        const three = await Promise.all(stores.map((s) => s.status(address)));
        statuses.set(address, JSON.parse(JSON.stringify(three)) as unknown[]);
      }
    } finally {
      for (const store of stores) await store.close();
    }
  }, 60_000);

  it('decides every kind of record the audit has to hold (the input is not vacuous)', () => {
    expect(summaries[0]).toMatchObject({ records: RECORDS, failed: 0, rejected: 0 });
    for (const kind of ['unsubscribed', 'alreadySuppressed', 'softBounces', 'ignored'])
      expect(summaries[0]![kind], kind).toBeGreaterThan(20);
    // Soft bounces that escalate: a trail with soft-bounce decisions, then an unsubscribe.
    const escalated = [...statuses.values()].filter(([never]) =>
      /soft-bounce .*unsubscribe/.test((never as { audit: Audit }).audit.map((a) => a.action).join(' ')),
    );
    expect(escalated.length).toBeGreaterThan(10);
  });

  it('writes decisions to the decision file only once past the threshold, each in a named batch', () => {
    const never = decisionFileCounts(states.never);
    const first = decisionFileCounts(states.first);
    const middle = decisionFileCounts(states.middle);
    expect(never).toMatchObject({ rows: 0, batches: 0 });
    // From the first entry: every decision of the run (one per record but the rejects).
    expect(first.rows).toBeGreaterThan(RECORDS * 0.9);
    expect(first).toMatchObject({ named: first.rows, namedUnsynced: 0 });
    expect(middle.rows).toBeGreaterThan(RECORDS * 0.4);
    expect(middle.rows).toBeLessThan(first.rows);
    expect(middle).toMatchObject({ named: middle.rows, namedUnsynced: 0 });
  });

  it('gives every recipient the same status (suppression, soft bounces, audit in order) either way', () => {
    let interleaved = 0;
    for (const [address, [never, first, middle]] of statuses) {
      expect(first, address).toEqual(never);
      expect(middle, address).toEqual(never);
      const kinds = (never as { audit: Audit }).audit.map((a) => a.type).join(' ');
      if (/decision .*provider .*decision/.test(kinds)) interleaved += 1;
    }
    // Not vacuous: many trails have a provider outcome between two decisions, the order the
    // decision file's rows must keep (after_seq), and the three answers are not all empty.
    expect(interleaved).toBeGreaterThan(50);
    expect(statuses.size).toBeGreaterThan(500);
  });

  it('prints the same `status --json` for a sample of recipients, trails with provider outcomes among them', async () => {
    const sample = recipients.filter((_, i) => i % 20 === 0);
    let withProvider = 0;
    for (const address of sample) {
      const [never, first, middle] = await Promise.all(
        Object.values(states).map((state) => statusJson(state, address)),
      );
      expect(first, address).toEqual(never);
      expect(middle, address).toEqual(never);
      expect((never as { subject: string }).subject).toBe(address);
      if ((never as { audit: Audit }).audit.some((a) => a.type === 'provider')) withProvider += 1;
    }
    expect(withProvider).toBeGreaterThan(5);
  });

  it('exports the same suppressions, with the same provenance and list changes', async () => {
    const exports = [];
    for (const state of Object.values(states)) {
      const run = await runCliText(['suppressions', 'export', '--format', 'json', '--state', state]);
      expect(run.code, run.stderr).toBe(0);
      exports.push(JSON.parse(run.stdout) as Array<Record<string, unknown>>);
    }
    expect(exports[0]!.length).toBeGreaterThan(300);
    expect(exports[0]!.some((r) => (r.listsChanged as unknown[]).length > 0)).toBe(true);
    expect(exports[1]).toEqual(exports[0]);
    expect(exports[2]).toEqual(exports[0]);
  });

  it('keeps one unsubscribe decision per suppression, visible with its suppression', () => {
    for (const state of Object.values(states)) {
      const agreement = stateAgreement(state);
      expect(agreement.suppressedWithoutDecision).toEqual([]);
      expect(agreement.decidedWithoutSuppression).toEqual([]);
      expect(new Set(agreement.unsubscribeDecisions.values())).toEqual(new Set([1]));
    }
  });
});

describe('a dry run', () => {
  it('never starts the audit thread: the decision file is not created, nor written over a real state', async () => {
    const fresh = join(dir, 'dry.db');
    const dry = await runCliText(['process', input, '--state', fresh, '--dry-run', '--json'], {
      env: { PMTA_BOUNCE_AUDIT_THREAD_AFTER: '0' },
    });
    expect(dry.code, dry.stderr).toBe(0);
    expect(existsSync(`${fresh}-audit`)).toBe(false);
    const before = decisionFileCounts(states.first);
    const over = await runCliText(['process', input, '--state', states.first, '--dry-run', '--json'], {
      env: { PMTA_BOUNCE_AUDIT_THREAD_AFTER: '0' },
    });
    expect(over.code, over.stderr).toBe(0);
    expect(JSON.parse(over.stdout)).toMatchObject({ records: RECORDS, unsubscribed: 0 });
    expect(decisionFileCounts(states.first)).toEqual(before);
  });
});

describe('a decision row whose batch the state never named (the state did not commit)', () => {
  it('stays invisible until the state names its batch', async () => {
    const state = states.first;
    const address = recipients.find((r) => {
      const db = new Database(`${state}-audit`, { readonly: true });
      const row = db.prepare('SELECT 1 FROM decisions WHERE subject = ?').get(r);
      db.close();
      return row !== undefined;
    });
    if (address === undefined) throw new Error('the threaded run left no decision row to copy');
    const before = (await statusJson(state, address)) as { audit: Audit };
    const orphan = 2 ** 40 + 14;
    const file = new Database(`${state}-audit`);
    file
      .prepare(
        `INSERT INTO decisions (batch, after_seq, subject_hash, subject, at, type, action, reason, rule, line, record_key)
         SELECT ?, after_seq, subject_hash, subject, at, type, action, reason, rule, 999999, record_key
           FROM decisions WHERE subject = ? ORDER BY seq DESC LIMIT 1`,
      )
      .run(orphan, address);
    // As after a crash between the thread's sync and the state's commit: synced, never named.
    file.prepare('INSERT INTO synced_batches (batch, at) VALUES (?, ?)').run(orphan, NOW);
    file.close();
    expect(await statusJson(state, address)).toEqual(before);

    const db = new Database(state);
    db.prepare('INSERT INTO audit_batches (batch) VALUES (?)').run(orphan);
    db.close();
    const after = (await statusJson(state, address)) as { audit: Audit };
    expect(after.audit).toHaveLength(before.audit.length + 1);
    expect(after.audit.filter((a) => a.line === 999999)).toHaveLength(1);
    const undo = new Database(state);
    undo.prepare('DELETE FROM audit_batches WHERE batch = ?').run(orphan);
    undo.close();
  });
});

describe('a decision file that cannot be written', () => {
  const spoiledState = () => join(dir, `spoiled-${Math.random().toString(36).slice(2)}.db`);

  /** The state after the failed run: no batch named, no suppression, nothing without its audit. */
  function expectNothingCommitted(state: string): void {
    expect(decisionFileCounts(state)).toMatchObject({ named: 0, batches: 0 });
    const agreement = stateAgreement(state);
    expect(agreement.suppressions).toBe(0);
    expect(agreement.suppressedWithoutDecision).toEqual([]);
  }

  it.each([
    ['a directory where it goes', (state: string) => `${state}-audit`],
    ['its journal cannot be created', (state: string) => `${state}-audit-wal`],
  ])('fails the run at its first commit, naming the file, committing nothing (%s)', async (_, spoiled) => {
    const state = spoiledState();
    mkdirSync(spoiled(state));
    const failed = await processWithThread(state, '0');
    expect(failed.code, failed.stderr).toBe(75);
    const named = `pmta-bounce process: cannot write state ${state}-audit (the audit's decision file): `;
    expect(failed.stderr.slice(0, named.length)).toBe(named);
    rmSync(spoiled(state), { recursive: true });
    expectNothingCommitted(state);
  });
});
