/**
 * `pmta-bounce process [FILE ... | -]`: accounting CSV (or the PHP bouncehandler's plain address
 * CSV) → decisions → SQLite state → providers → audit → summary. Streams, in batches of 1,000
 * records; state commits every 50,000 records or before provider calls (docs/benchmarks.md).
 */
import { appendFileSync, createReadStream, createWriteStream, openSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createAccountingReader } from '#core/accounting/accounting-reader.ts';
import type { Action } from '#core/act/action.ts';
import type { ActionResult } from '#core/act/run-action.ts';
import type { Config } from '#core/config-schema.ts';
import { decideRecords, type ReportRow } from '#core/decide/decide-records.ts';
import { describeTrip, type GuardrailTrip } from '#core/guardrails/guardrails.ts';
import type { ParseOutcome } from '#core/mail-event.ts';
import type { OutboxSummary } from '#core/ports.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import { warnLiteralSecrets } from './config-warnings.ts';
import { createLocalRuntime, DEFAULT_STATE_PATH, type LocalRuntime } from './local-runtime.ts';
import { runOutboxActions } from './outbox-runner.ts';
import {
  countAction,
  countRow,
  emptySummary,
  formatSummary,
  type ProcessSummary,
} from './process-summary.ts';
import { createProgressBar } from './progress-bar.ts';
import { createRunLog, type RunLog } from './run-log.ts';
import { createRunTraffic, type RunTraffic } from './run-traffic.ts';

/**
 * Records decided together, and the file read per chunk (about as many records): small enough that
 * a batch's objects die in V8's 2 MB semi-space (bin/pmta-bounce.js) instead of being promoted
 * (peak RSS ~12 MB lower than 1,000 records in 8 MB, same CPU: docs/benchmarks.md).
 */
const BATCH_RECORDS = 250;
const READ_BYTES = 64 * 1024;
/** Records whose state is committed together, unless actions must run (their outbox first). */
const COMMIT_RECORDS = 50_000;
/**
 * Decision entries a run writes itself before it hands the rest to the audit thread: a small run
 * (a pipe's trickle, a test) never starts one; a big file saves ~3 µs per record on the main
 * thread (docs/benchmarks.md, "The audit thread"). PMTA_BOUNCE_AUDIT_THREAD_AFTER sets it (tests).
 */
const AUDIT_THREAD_AFTER = 20_000;

function auditThreadAfter(io: CliIo): number {
  const set = io.env.PMTA_BOUNCE_AUDIT_THREAD_AFTER;
  return set && /^\d+$/.test(set) ? Number(set) : AUDIT_THREAD_AFTER;
}
/** Provider results committed together: at most this many, or this long after the first. */
const ACTION_COMMIT_GROUP = 32;
const ACTION_COMMIT_MS = 250;
/** Pending and parked actions are counted in the summary; parked ones get a line of their own. */
function reportOutbox(summary: ProcessSummary, outbox: OutboxSummary, io: CliIo): void {
  summary.pending = outbox.pending;
  if (outbox.parkedActions === 0) return;
  // Provider errors carry no secret, but may quote the provider's answer: printable only.
  const why = outbox.parked.map((p) => p.lastError.replace(/[^\x20-\x7e]/g, '?').slice(0, 200)).join('; ');
  io.stderr.write(
    `pmta-bounce process: ${outbox.parkedActions} action(s) parked after a permanent provider error (${why}); fix the configuration, then run \`pmta-bounce retry\`\n`,
  );
}

const USAGE = `usage: pmta-bounce process [FILE ... | -] [--config F] [--state F] [--dry-run] [--report F] [--json] [--debug] [--logfile=PATH]`;

function logRow(log: RunLog, row: ReportRow): void {
  if (!log.enabled || row.action === 'ignore') return;
  const who = row.recipient ?? '(no recipient)';
  log(`line ${row.line} ${row.type} ${who}: ${row.action} — ${row.reason}`);
}

function logResult(log: RunLog, result: ActionResult): void {
  if (!log.enabled) return;
  for (const o of result.outcomes) {
    const lists = o.lists?.map((l) => `${l.listName ?? l.listId} (${l.outcome})`).join(', ') || 'no lists';
    const detail = o.outcome === 'failed' ? `FAILED: ${o.error}` : `${o.outcome}: ${lists}`;
    log(`  ${o.provider}: ${result.action.subject} ${detail}`);
  }
}

/**
 * JSON leaves U+2028/U+2029 raw; readers that split on Unicode line breaks (Python's splitlines,
 * some editors) would see a forged row. Escaped, the line still parses to the same value.
 */
function jsonLine(value: unknown): string {
  return JSON.stringify(value).replace(/[\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

async function writeLine(stream: Writable, line: string): Promise<void> {
  if (!stream.write(line)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

const OPTIONS = {
  config: { type: 'string' },
  state: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  report: { type: 'string' },
  json: { type: 'boolean', default: false },
  debug: { type: 'boolean', default: false },
  logfile: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

function parseProcessArgs(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

type ProcessArgs = ReturnType<typeof parseProcessArgs>;

/** Inputs that cannot be read (missing, a directory) are usage errors before anything runs. */
function checkInputs(inputs: readonly string[], io: CliIo): boolean {
  for (const input of inputs) {
    if (input === '-') continue;
    let directory = false;
    try {
      // A directory would fail later, mid-run, with EISDIR; pipes and devices are fine.
      directory = statSync(input).isDirectory();
    } catch {
      io.stderr.write(`pmta-bounce process: cannot read ${input}\n`);
      return false;
    }
    if (directory) {
      io.stderr.write(`pmta-bounce process: cannot read ${input} (a directory)\n`);
      return false;
    }
  }
  return true;
}

/**
 * Output files are opened before anything is processed: an unwritable path is a usage error,
 * not an 'error' event (report) or a throw (log file) that kills the run halfway.
 * Returns the report's descriptor (or undefined), or false after a usage error.
 */
function openOutputs(args: ProcessArgs, statePath: string, io: CliIo): number | undefined | false {
  for (const output of [args.values.report, args.values.logfile]) {
    // Opening the report truncates its file: pointed at the state, it would wipe the state.
    if (output && resolve(output) === resolve(statePath)) {
      io.stderr.write(`pmta-bounce process: ${output} is the state file; choose another path\n`);
      return false;
    }
  }
  let opening = args.values.logfile;
  try {
    if (opening) appendFileSync(opening, '');
    opening = args.values.report;
    return opening ? openSync(opening, 'w') : undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    io.stderr.write(`pmta-bounce process: cannot write ${opening} (${code})\n`);
    return false;
  }
}

/** One run over its inputs: what every step shares. */
interface ProcessRun {
  io: CliIo;
  runtime: LocalRuntime;
  config: Config;
  dryRun: boolean;
  multipleInputs: boolean;
  log: RunLog;
  report: Writable | undefined;
  summary: ProcessSummary;
  progress: ReturnType<typeof createProgressBar> | undefined;
  bytesRead: number;
  /** Records decided since the last commit. */
  uncommitted: number;
  /** Deliverability counts (docs/guardrails.md), written in each commit's transaction. */
  traffic: RunTraffic;
  onResult(result: ActionResult): void;
}

async function commit(run: ProcessRun): Promise<void> {
  await run.traffic.flush();
  run.runtime.store.commitBatch();
  run.uncommitted = 0;
}

/** Decides one batch of parsed records, writes state, the report and the log, then acts. */
async function processBatch(
  run: ProcessRun,
  outcomes: ParseOutcome[],
  source: string,
  idle: boolean,
): Promise<void> {
  const { io, runtime, dryRun } = run;
  const store = runtime.store;
  store.openBatch();
  const result = await decideRecords(outcomes, {
    classifier: runtime.classifier,
    policy: run.config.policy,
    router: runtime.router,
    store,
    now: io.now,
  });
  if (result.rejects.length > 0) store.recordRejects(result.rejects, source, io.now());
  await run.traffic.add(outcomes, result.rows);
  const acting = !dryRun && result.actions.length > 0;
  if (acting) runtime.outbox.enqueue(result.actions);
  run.uncommitted += outcomes.length;
  // Committed before any provider call (the outbox must survive a crash), when the input is idle
  // (a pipe: nothing decided waits on more input), or after COMMIT_RECORDS.
  if (acting || idle || run.uncommitted >= COMMIT_RECORDS) await commit(run);
  for (const row of result.rows) {
    countRow(run.summary, row);
    logRow(run.log, row);
    if (run.report) {
      const line = run.multipleInputs ? { file: source, ...row } : row;
      await writeLine(run.report, `${jsonLine(line)}\n`);
    }
  }
  if (acting) await actOn(run, result.actions);
  run.progress?.update(run.summary.records, run.bytesRead);
}

/**
 * Runs actions already in the outbox. Their state writes (audit, provider done, outbox) are
 * committed in groups, not one commit per action: each commit syncs the WAL and blocks the event
 * loop, which held every provider's pipeline still (measured in docs/benchmarks.md). A crash loses
 * at most one group's record of calls made: those actions stay in the outbox and run again, as
 * after a crash mid-call. MailWizz and Interspire re-read the subscriptions first (Interspire's
 * non-idempotent unsubscribe is only sent to a still-active one); a webhook repeats its action id
 * (docs/providers.md).
 */
async function actOn(run: ProcessRun, actions: readonly Action[]): Promise<void> {
  const store = run.runtime.store;
  let settled = 0;
  let since = run.io.now();
  store.openBatch();
  await runOutboxActions(actions, { ...run.runtime, now: run.io.now }, (result) => {
    run.onResult(result);
    settled += 1;
    if (settled >= ACTION_COMMIT_GROUP || run.io.now() - since >= ACTION_COMMIT_MS) {
      store.commitBatch();
      store.openBatch();
      settled = 0;
      since = run.io.now();
    }
  });
  store.commitBatch();
}

/** Streams one input through the reader in batches. */
async function processInput(run: ProcessRun, input: string): Promise<void> {
  const source = input === '-' ? 'stdin' : input;
  let batch: ParseOutcome[] = [];
  const reader = createAccountingReader({ fields: run.config.accounting.fields }, (o) => batch.push(o));
  const stream: Readable =
    input === '-' ? run.io.stdin : createReadStream(input, { highWaterMark: READ_BYTES });
  const flush = async (idle: boolean): Promise<void> => {
    if (batch.length === 0) {
      if (idle) await commit(run);
      return;
    }
    const outcomes = batch;
    batch = [];
    await processBatch(run, outcomes, source, idle);
  };
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    run.bytesRead += buf.length;
    reader.write(buf);
    // A pipe delivers records as PowerMTA writes them: once it has nothing more buffered, act on
    // what came, do not wait for EOF.
    const idle = input === '-' && stream.readableLength === 0;
    if (batch.length >= BATCH_RECORDS || idle) await flush(idle);
  }
  reader.end();
  await flush(true);
}

function startRun(
  args: ProcessArgs,
  config: Config,
  statePath: string,
  reportFd: number | undefined,
  io: CliIo,
) {
  const inputs = args.positionals.length > 0 ? args.positionals : ['-'];
  const dryRun = args.values['dry-run'] ?? false;
  const log = createRunLog({
    debug: args.values.debug ?? false,
    logfile: args.values.logfile,
    console: io.stderr,
    now: io.now,
  });
  const runtime = createLocalRuntime(config, { statePath, dryRun, auditThreadAfter: auditThreadAfter(io) });
  const totalBytes = inputs.every((i) => i !== '-')
    ? inputs.reduce((n, i) => n + statSync(i).size, 0)
    : undefined;
  const showProgress = Boolean(io.stderr.isTTY) && !args.values.json && !args.values.debug;
  const summary = emptySummary(config.providers.map((p) => p.id));
  const run: ProcessRun = {
    io,
    runtime,
    config,
    dryRun,
    multipleInputs: inputs.length > 1,
    log,
    report: reportFd !== undefined ? createWriteStream('', { fd: reportFd }) : undefined,
    summary,
    progress: showProgress ? createProgressBar(io.stderr, totalBytes, io.now) : undefined,
    bytesRead: 0,
    uncommitted: 0,
    traffic: createRunTraffic(config, runtime.traffic),
    onResult: (r) => {
      countAction(summary, r);
      logResult(log, r);
    },
  };
  return { run, inputs };
}

/** Actions an earlier run could not finish (provider down, credentials wrong, killed) go first. */
async function retryLeftovers(run: ProcessRun): Promise<void> {
  const leftover = run.dryRun ? [] : run.runtime.outbox.pending();
  if (leftover.length === 0) return;
  run.io.stderr.write(
    `pmta-bounce process: retrying ${leftover.length} pending action(s) from earlier runs\n`,
  );
  await actOn(run, leftover);
}

/** Trips shown on stderr; the rest is counted (all of them are in --json and in `report`). */
const GUARDRAIL_LINES = 10;

/** Guardrails go to stderr so the summary line stays one line (docs/guardrails.md). */
function writeGuardrailLines(trips: readonly GuardrailTrip[], io: CliIo): void {
  for (const trip of trips.slice(0, GUARDRAIL_LINES))
    io.stderr.write(`pmta-bounce process: guardrail ${describeTrip(trip)}\n`);
  if (trips.length > GUARDRAIL_LINES)
    io.stderr.write(
      `pmta-bounce process: ${trips.length - GUARDRAIL_LINES} more guardrail(s) tripped: see pmta-bounce report\n`,
    );
}

async function processCommand(argv: string[], io: CliIo): Promise<number> {
  let args: ProcessArgs;
  try {
    args = parseProcessArgs(argv);
  } catch (error) {
    io.stderr.write(`pmta-bounce process: ${(error as Error).message}\n${USAGE}\n`);
    return ExitCode.usage;
  }
  if (args.values.help) {
    io.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const { config } = loadConfigFile(args.values.config, io.env);
  warnLiteralSecrets(config, io.stderr);
  if (!checkInputs(args.positionals, io)) return ExitCode.usage;
  const statePath = args.values.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  const reportFd = openOutputs(args, statePath, io);
  if (reportFd === false) return ExitCode.usage;

  const { run, inputs } = startRun(args, config, statePath, reportFd, io);
  const started = io.now();
  const providers = config.providers.map((p) => p.id).join(', ') || 'none';
  run.log(
    `pmta-bounce process: ${run.dryRun ? 'dry run, ' : ''}${config.providers.length} provider(s): ${providers}`,
  );
  let trips: GuardrailTrip[] = [];
  try {
    await retryLeftovers(run);
    for (const input of inputs) await processInput(run, input);
    if (!run.dryRun) reportOutbox(run.summary, run.runtime.outbox.summary(), io);
    trips = await run.traffic.finish();
    for (const failure of await run.traffic.notify(trips, io.now()))
      io.stderr.write(`pmta-bounce process: ${failure}\n`);
  } finally {
    await run.traffic.close();
    run.progress?.done();
    const report = run.report;
    if (report) await new Promise<void>((resolve) => report.end(resolve));
    await run.runtime.close();
  }

  const elapsed = io.now() - started;
  writeGuardrailLines(trips, io);
  if (args.values.json) io.stdout.write(`${JSON.stringify({ ...run.summary, guardrails: trips })}\n`);
  else io.stdout.write(`${run.dryRun ? '[dry run] ' : ''}${formatSummary(run.summary, elapsed)}\n`);
  run.log(`done: ${formatSummary(run.summary, elapsed)}`);
  return run.summary.failed > 0 ? ExitCode.actionsFailed : ExitCode.ok;
}

export { processCommand };
