/**
 * `pmta-bounce process [FILE ... | -]`: accounting CSV (or the PHP bouncehandler's plain address CSV) →
 * decisions → SQLite state → providers → audit → summary. Streams: memory stays flat whatever
 * the input size.
 */
import { appendFileSync, createReadStream, createWriteStream, openSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createAccountingReader } from '#core/accounting/accounting-reader.ts';
import type { ActionResult } from '#core/act/run-action.ts';
import { decideRecords, type ReportRow } from '#core/decide/decide-records.ts';
import { describeTrip, type GuardrailTrip } from '#core/guardrails/guardrails.ts';
import type { ParseOutcome } from '#core/mail-event.ts';
import type { OutboxSummary } from '#core/ports.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import { warnLiteralSecrets } from './config-warnings.ts';
import { createLocalRuntime, DEFAULT_STATE_PATH } from './local-runtime.ts';
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
import { createRunTraffic } from './run-traffic.ts';

const BATCH_RECORDS = 5000;
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

async function processCommand(argv: string[], io: CliIo): Promise<number> {
  let args: ReturnType<typeof parseProcessArgs>;
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
  const inputs = args.positionals.length > 0 ? args.positionals : ['-'];
  for (const input of inputs) {
    if (input === '-') continue;
    let directory = false;
    try {
      // A directory would fail later, mid-run, with EISDIR; pipes and devices are fine.
      directory = statSync(input).isDirectory();
    } catch {
      io.stderr.write(`pmta-bounce process: cannot read ${input}\n`);
      return ExitCode.usage;
    }
    if (directory) {
      io.stderr.write(`pmta-bounce process: cannot read ${input} (a directory)\n`);
      return ExitCode.usage;
    }
  }

  // Output files are opened before anything is processed: an unwritable path is a usage error,
  // not an 'error' event (report) or a throw (log file) that kills the run halfway.
  const statePath = args.values.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  for (const output of [args.values.report, args.values.logfile]) {
    // Opening the report truncates its file: pointed at the state, it would wipe the state.
    if (output && resolve(output) === resolve(statePath)) {
      io.stderr.write(`pmta-bounce process: ${output} is the state file; choose another path\n`);
      return ExitCode.usage;
    }
  }
  let reportFd: number | undefined;
  let opening = args.values.logfile;
  try {
    if (opening) appendFileSync(opening, '');
    opening = args.values.report;
    if (opening) reportFd = openSync(opening, 'w');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    io.stderr.write(`pmta-bounce process: cannot write ${opening} (${code})\n`);
    return ExitCode.usage;
  }

  const dryRun = args.values['dry-run'] ?? false;
  const log = createRunLog({
    debug: args.values.debug ?? false,
    logfile: args.values.logfile,
    console: io.stderr,
    now: io.now,
  });
  const runtime = createLocalRuntime(config, {
    statePath,
    dryRun,
  });
  const report = reportFd !== undefined ? createWriteStream('', { fd: reportFd }) : undefined;
  const summary = emptySummary(config.providers.map((p) => p.id));
  const started = io.now();
  const totalBytes = inputs.every((i) => i !== '-')
    ? inputs.reduce((n, i) => n + statSync(i).size, 0)
    : undefined;
  const showProgress = Boolean(io.stderr.isTTY) && !args.values.json && !args.values.debug;
  const progress = showProgress ? createProgressBar(io.stderr, totalBytes, io.now) : undefined;
  let bytesRead = 0;
  log(
    `pmta-bounce process: ${dryRun ? 'dry run, ' : ''}${config.providers.length} provider(s): ${config.providers.map((p) => p.id).join(', ') || 'none'}`,
  );

  const traffic = createRunTraffic(config, statePath, dryRun);
  const onResult = (r: ActionResult): void => {
    countAction(summary, r);
    logResult(log, r);
  };

  let trips: GuardrailTrip[] = [];
  try {
    // Actions an earlier run could not finish (provider down, credentials wrong, killed) go first.
    const leftover = dryRun ? [] : runtime.outbox.pending();
    if (leftover.length > 0) {
      io.stderr.write(
        `pmta-bounce process: retrying ${leftover.length} pending action(s) from earlier runs\n`,
      );
      await runOutboxActions(leftover, { ...runtime, now: io.now }, onResult);
    }
    for (const input of inputs) {
      const source = input === '-' ? 'stdin' : input;
      const batch: ParseOutcome[] = [];
      const reader = createAccountingReader({ fields: config.accounting.fields }, (o) => batch.push(o));
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return;
        const outcomes = batch.splice(0, batch.length);
        const result = await decideRecords(outcomes, {
          classifier: runtime.classifier,
          policy: config.policy,
          router: runtime.router,
          store: runtime.store,
          now: io.now,
        });
        if (result.rejects.length > 0) runtime.store.recordRejects(result.rejects, source, io.now());
        await traffic.add(outcomes, result.rows);
        for (const row of result.rows) {
          countRow(summary, row);
          logRow(log, row);
          if (report) {
            const line = inputs.length > 1 ? { file: source, ...row } : row;
            await writeLine(report, `${jsonLine(line)}\n`);
          }
        }
        if (!dryRun && result.actions.length > 0) {
          runtime.outbox.enqueue(result.actions);
          await runOutboxActions(result.actions, { ...runtime, now: io.now }, onResult);
        }
        progress?.update(summary.records, bytesRead);
      };
      const stream: Readable =
        input === '-' ? io.stdin : createReadStream(input, { highWaterMark: 256 * 1024 });
      for await (const chunk of stream) {
        const buf = chunk as Buffer;
        bytesRead += buf.length;
        reader.write(buf);
        // A pipe delivers records as PowerMTA writes them: act on each chunk, not at EOF.
        if (batch.length >= BATCH_RECORDS || input === '-') await flush();
      }
      reader.end();
      await flush();
    }
    if (!dryRun) reportOutbox(summary, runtime.outbox.summary(), io);
    trips = await traffic.finish();
    for (const failure of await traffic.notify(trips, io.now()))
      io.stderr.write(`pmta-bounce process: ${failure}\n`);
  } finally {
    await traffic.close();
    progress?.done();
    if (report) await new Promise<void>((resolve) => report.end(resolve));
    await runtime.close();
  }

  const elapsed = io.now() - started;
  // Guardrails go to stderr so the summary line stays one line (docs/guardrails.md).
  for (const trip of trips) io.stderr.write(`pmta-bounce process: guardrail ${describeTrip(trip)}\n`);
  if (args.values.json) io.stdout.write(`${JSON.stringify({ ...summary, guardrails: trips })}\n`);
  else io.stdout.write(`${dryRun ? '[dry run] ' : ''}${formatSummary(summary, elapsed)}\n`);
  log(`done: ${formatSummary(summary, elapsed)}`);
  return summary.failed > 0 ? ExitCode.actionsFailed : ExitCode.ok;
}

export { processCommand };
