/**
 * `process` with its audit thread, as installed: bin/pmta-bounce.js on the CLI bundle (dist/cli,
 * whose worker is its own built entry), built into a temp copy of the repository so the tests never
 * touch the real dist/ — and once from the sources (the bin's tsx fallback). A run killed mid-way
 * leaves a state whose suppressions and visible decisions agree, whose decision-file rows of the
 * uncommitted batch stay invisible, and which the same file then completes. The in-process runs
 * (the worker from the sources under vitest) are in process-audit-thread.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { createRandom } from '#test/support/builders.ts';
import { decisionFileCounts, stateAgreement } from '#test/support/decision-file-state.ts';
import { sleep } from '#test/support/wait.ts';

const ROOT = join(import.meta.dirname, '../..');
const copy = mkdtempSync(join(tmpdir(), 'pmta-bounce-audit-bin-'));
const dir = join(copy, 'work');
const WORKER_MARK = join(copy, 'built-worker-ran');
/** Above process-command.ts's COMMIT_RECORDS (50,000) twice: two commits before the last. */
const RECORDS = 120_000;
const input = join(copy, 'acct.csv');
/** The first 20,000 records: six reads of 256 KiB, so six decide batches, one commit at the end. */
const small = join(copy, 'small.csv');

/**
 * One short line per record (the layout of cli-process.test.ts): hard and soft bounces, ignored
 * sender-side blocks, deliveries; 40,000 recipients, so many first appear in each third of the file.
 */
function writeInput(): void {
  const random = createRandom(1414);
  const lines = ['type,timeLogged,orig,rcpt,dsnStatus,bounceCat,jobId'];
  const kinds = ['b,%,5.1.1,bad-mailbox', 'b,%,4.2.2,quota-issues', 'b,%,5.7.1,spam-related', 'd,%,2.0.0,'];
  for (let i = 0; i < RECORDS; i++) {
    const rcpt = `r${Math.floor(random() * 40_000)}@example${i % 13}.net`;
    const [type, , status, cat] = kinds[Math.floor(random() * kinds.length)]!.split(',');
    lines.push(`${type},${1_764_000_000 + i},news@example.com,${rcpt},${status},${cat},job-${i % 5}`);
  }
  writeFileSync(input, `${lines.join('\n')}\n`);
  writeFileSync(small, `${lines.slice(0, 20_001).join('\n')}\n`);
}

/** What the state holds of the deliverability counts, and the line of its last visible decision. */
function committedTraffic(state: string): { bounces: number; deliveries: number; lastDecisionLine: number } {
  const db = new Database(state, { readonly: true });
  db.prepare('ATTACH DATABASE ? AS decided').run(`${state}-audit`);
  const rows = db.prepare('SELECT deliveries, hard, soft, blocks FROM traffic').all() as Array<{
    deliveries: number;
    hard: number;
    soft: number;
    blocks: string;
  }>;
  const lastDecisionLine = db
    .prepare(
      `SELECT max(line) FROM (SELECT line FROM main.audit_trail UNION ALL
         SELECT line FROM decided.decisions WHERE batch IN (SELECT batch FROM main.audit_batches))`,
    )
    .pluck()
    .get() as number;
  db.close();
  const blocks = (json: string) =>
    Object.values(JSON.parse(json) as Record<string, number>).reduce((a, b) => a + b, 0);
  return {
    bounces: rows.reduce((n, r) => n + r.hard + r.soft + blocks(r.blocks), 0),
    deliveries: rows.reduce((n, r) => n + r.deliveries, 0),
    lastDecisionLine,
  };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function start(
  args: string[],
  env: Record<string, string>,
  root = copy,
): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, [join(root, 'bin/pmta-bounce.js'), ...args], {
    cwd: copy,
    env: { ...process.env, PMTA_BOUNCE_CONFIG: '', PMTA_BOUNCE_FROM_SOURCE: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += d;
  });
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, done };
}

const processArgs = (state: string, file = input) => ['process', file, '--state', state, '--json'];

/** Read-only, while the run writes: batches named, and decision-file rows of no named batch. */
function progress(state: string): { named: number; orphans: number } {
  if (!existsSync(state) || !existsSync(`${state}-audit`)) return { named: 0, orphans: 0 };
  try {
    const counts = decisionFileCounts(state);
    return { named: counts.batches, orphans: counts.rows - counts.named };
  } catch {
    return { named: 0, orphans: 0 }; // the thread has not created its table yet
  }
}

/** Suppressions as a comparable list. */
function suppressionRows(state: string): unknown[] {
  const db = new Database(state, { readonly: true });
  const rows = db
    .prepare('SELECT subject, at, kind, category, rule FROM suppressions ORDER BY subject')
    .all();
  db.close();
  return rows;
}

beforeAll(async () => {
  for (const part of ['bin', 'functions', 'scripts', 'package.json', 'tsconfig.json'])
    cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  const { bundleCli } = await import('../../scripts/cli-bundle.js');
  await bundleCli(copy);
  // The built worker says it ran (the bin's manifest covers the sources, not dist/ itself).
  appendFileSync(
    join(copy, 'dist/cli/audit-thread-worker.js'),
    `\n;(await import('node:fs')).appendFileSync(${JSON.stringify(WORKER_MARK)}, 'ran\\n');\n`,
  );
  mkdirSync(dir);
  writeInput();
}, 60_000);
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('process killed mid-run with the audit thread (the bundle)', () => {
  it('leaves suppressions and visible decisions in agreement, the uncommitted batch invisible, and completes on a rerun', async () => {
    const state = join(dir, 'killed.db');
    const run = start(processArgs(state), { PMTA_BOUNCE_AUDIT_THREAD_AFTER: '0' });
    let exited: Run | undefined;
    void run.done.then((r) => {
      exited = r;
    });
    // Killed once a batch is named and the thread has committed rows of the next, still open one.
    let seen = { named: 0, orphans: 0 };
    const deadline = Date.now() + 45_000;
    while (!exited && Date.now() < deadline) {
      seen = progress(state);
      if (seen.named >= 1 && seen.orphans > 0) break;
      await sleep(15);
    }
    // Needs the thread to commit rows mid-batch (its ROWS_PER_COMMIT below COMMIT_RECORDS).
    expect(exited, 'the run ended before it could be killed mid-batch').toBeUndefined();
    run.child.kill('SIGKILL');
    const killed = await run.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(existsSync(WORKER_MARK), 'the built worker ran').toBe(true);

    const after = decisionFileCounts(state);
    expect(after.batches).toBeGreaterThanOrEqual(1);
    expect(after.namedUnsynced).toBe(0);
    expect(after.rows - after.named).toBeGreaterThan(0);
    const agreement = stateAgreement(state);
    expect(agreement.suppressions).toBeGreaterThan(1000);
    expect(agreement.suppressedWithoutDecision).toEqual([]);
    expect(agreement.decidedWithoutSuppression).toEqual([]);
    expect(new Set(agreement.unsubscribeDecisions.values())).toEqual(new Set([1]));
    // The deliverability counts commit with the decisions (one transaction): exactly the bounces
    // up to the last visible decision, and the deliveries up to the batch's end.
    const counted = committedTraffic(state);
    const lines = readFileSync(input, 'utf8').split('\n');
    const typeAt = (line: number) => lines[line - 1]?.split(',')[0];
    const upTo = (type: string, last: number) =>
      lines.slice(1, last).filter((l) => l.startsWith(`${type},`)).length;
    let nextBounce = counted.lastDecisionLine + 1;
    while (nextBounce <= lines.length && typeAt(nextBounce) !== 'b') nextBounce++;
    expect(counted.bounces).toBe(upTo('b', counted.lastDecisionLine));
    expect(counted.deliveries).toBeGreaterThanOrEqual(upTo('d', counted.lastDecisionLine));
    expect(counted.deliveries).toBeLessThanOrEqual(upTo('d', nextBounce - 1));
    // Subjects only the uncommitted batch decided: `status` shows nothing at all for them.
    const db = new Database(state, { readonly: true });
    db.prepare('ATTACH DATABASE ? AS decided').run(`${state}-audit`);
    const unseen = db
      .prepare(
        `SELECT DISTINCT subject FROM decided.decisions WHERE subject NOT IN
           (SELECT subject FROM decided.decisions WHERE batch IN (SELECT batch FROM main.audit_batches)) LIMIT 50`,
      )
      .pluck()
      .all() as string[];
    db.close();
    expect(unseen.length).toBeGreaterThan(10);
    const store = new SqliteSuppressionStore({ path: state });
    for (const subject of unseen) {
      const status = await store.status(subject);
      expect(status.suppressed, subject).toBeUndefined();
      expect(status.audit, subject).toEqual([]);
    }
    await store.close();

    const rerun = await start(processArgs(state), { PMTA_BOUNCE_AUDIT_THREAD_AFTER: '0' }).done;
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(JSON.parse(rerun.stdout)).toMatchObject({ records: RECORDS, failed: 0 });
    const final = stateAgreement(state);
    expect(final.suppressedWithoutDecision).toEqual([]);
    expect(final.decidedWithoutSuppression).toEqual([]);
    // The killed run's orphans would be a second unsubscribe decision for their subjects.
    expect(new Set(final.unsubscribeDecisions.values())).toEqual(new Set([1]));
    expect(decisionFileCounts(state).namedUnsynced).toBe(0);

    // The same suppressions as one uninterrupted run without the thread.
    const reference = join(dir, 'reference.db');
    const whole = await start(processArgs(reference), { PMTA_BOUNCE_AUDIT_THREAD_AFTER: '1000000000' }).done;
    expect(whole.code, whole.stderr).toBe(0);
    expect(existsSync(`${reference}-audit`)).toBe(false);
    expect(suppressionRows(state)).toEqual(suppressionRows(reference));
  }, 90_000);
});

describe('the worker of each entry the bin starts', () => {
  it('is the built worker on the bundle, and the TypeScript one through tsx from the sources', async () => {
    // The first batch written by the run itself, the rest by the thread.
    const states = { bundle: join(dir, 'bundle.db'), source: join(dir, 'source.db') };
    rmSync(WORKER_MARK, { force: true });
    const env = { PMTA_BOUNCE_AUDIT_THREAD_AFTER: '500' };
    const args = (state: string) => ['process', small, '--state', state, '--json'];
    const bundle = await start(args(states.bundle), env).done;
    expect(bundle.code, bundle.stderr).toBe(0);
    expect(readFileSync(WORKER_MARK, 'utf8')).toBe('ran\n');
    rmSync(WORKER_MARK);
    const source = await start(args(states.source), { ...env, PMTA_BOUNCE_FROM_SOURCE: '1' }).done;
    expect(source.code, source.stderr).toBe(0);
    expect(existsSync(WORKER_MARK), 'the sources start their own worker').toBe(false);
    expect(source.stdout).toBe(bundle.stdout);
    for (const state of Object.values(states)) {
      const counts = decisionFileCounts(state);
      expect(counts.rows).toBeGreaterThan(10_000);
      expect(counts).toMatchObject({ named: counts.rows, namedUnsynced: 0 });
      expect(stateAgreement(state).suppressedWithoutDecision).toEqual([]);
    }
    expect(suppressionRows(states.source)).toEqual(suppressionRows(states.bundle));
  }, 60_000);
});

describe('the state commit waits for the thread', () => {
  it('names no batch while the decision file is locked, and every batch once it is free', async () => {
    const state = join(dir, 'locked.db');
    const env = { PMTA_BOUNCE_AUDIT_THREAD_AFTER: '0' };
    const first = await start(processArgs(state, small), env).done;
    expect(first.code, first.stderr).toBe(0);
    const before = decisionFileCounts(state).batches;
    expect(before).toBe(1);
    // Another writer holds the decision file: the thread cannot make the next batch durable.
    const lock = new Database(`${state}-audit`);
    lock.exec('BEGIN IMMEDIATE');
    const run = start(processArgs(state, small), env);
    let exited: Run | undefined;
    void run.done.then((r) => {
      exited = r;
    });
    try {
      const until = Date.now() + 2500;
      while (Date.now() < until) {
        expect(decisionFileCounts(state).batches, 'a batch named before its rows were durable').toBe(before);
        expect(exited?.stderr, 'the run ended while the decision file was locked').toBeUndefined();
        await sleep(50);
      }
    } finally {
      lock.exec('ROLLBACK');
      lock.close();
    }
    const done = await run.done;
    expect(done.code, done.stderr).toBe(0);
    expect(decisionFileCounts(state)).toMatchObject({ batches: 2, namedUnsynced: 0 });
    expect(stateAgreement(state).suppressedWithoutDecision).toEqual([]);
  }, 60_000);
});

describe('a decision file the built worker cannot open', () => {
  it('ends the run with 75 and one line naming it (no stack trace), and commits no batch', async () => {
    const state = join(dir, 'spoiled.db');
    mkdirSync(`${state}-audit`);
    const run = await start(processArgs(state, small), { PMTA_BOUNCE_AUDIT_THREAD_AFTER: '0' }).done;
    expect(run.code, run.stderr).toBe(75);
    expect(run.stderr).toContain(
      `pmta-bounce process: cannot write state ${state}-audit (the audit's decision file)`,
    );
    expect(run.stderr).not.toMatch(/^\s+at /m);
    rmSync(`${state}-audit`, { recursive: true });
    expect(decisionFileCounts(state)).toMatchObject({ batches: 0 });
    expect(stateAgreement(state).suppressions).toBe(0);
  });
});
