/**
 * `pmta-bounce suppressions import FILE [--format F] [--reason R] [--apply] [--json]`: another
 * sender's suppression export (formats and columns: core/suppressions/import-formats.ts,
 * docs/operations.md) into the state, streamed in batches so memory stays flat. Without --apply the
 * suppressions are recorded with nothing owed to any provider: later records for those addresses
 * are already-suppressed and call nobody. With --apply each new suppression becomes an unsubscribe
 * action in the outbox, run with the usual limits (outbox-runner.ts). A row that is not a
 * suppression is reported with its line and kept in the state's rejects; nothing is fatal.
 */
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { CsvError, parse } from 'csv-parse';
import type { Action } from '#core/act/action.ts';
import type { AuditEntry, SuppressionRequest } from '#core/ports.ts';
import {
  type ImportColumns,
  type ImportFormat,
  importRow,
  isImportFormat,
  resolveColumns,
} from '#core/suppressions/import-formats.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import { warnLiteralSecrets } from './config-warnings.ts';
import { type ImportTarget, openImportTarget } from './import-target.ts';
import { QUEUE_OPTIONS, TABLE_OPTIONS } from './table-clients.ts';

const USAGE =
  'usage: pmta-bounce suppressions import FILE|- [--format csv|mailgun|ses|sendgrid|mailwizz] [--reason R] [--apply] [--json] [--config F] [--state F | --table NAME [--region R] [--endpoint URL] [--actions-queue URL] [--sqs-endpoint URL]]';
const BATCH_ROWS = 5000;
/** Rejects listed in --json output (all of them go to stderr and the state's rejects table). */
const JSON_REJECTS = 1000;

interface ImportSummary {
  rows: number;
  imported: number;
  already: number;
  skipped: number;
  rejected: number;
  rejects: Array<{ line: number; reason: string }>;
  actions: number;
  done: number;
  failed: number;
  /** --table --apply: actions put on the actions queue for `act`. */
  queued: number;
}

interface ImportRun {
  format: ImportFormat;
  source: string;
  reason: string | undefined;
  apply: boolean;
  target: ImportTarget;
  io: CliIo;
  summary: ImportSummary;
  pendingRejects: Array<{ line: number; reason: string; raw: string }>;
}

function parseImportArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', default: 'csv' },
      reason: { type: 'string' },
      apply: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      config: { type: 'string' },
      state: { type: 'string' },
      ...TABLE_OPTIONS,
      ...QUEUE_OPTIONS,
    },
  });
}

function reject(run: ImportRun, line: number, reason: string, raw: string): void {
  run.summary.rejected += 1;
  if (run.summary.rejects.length < JSON_REJECTS) run.summary.rejects.push({ line, reason });
  run.io.stderr.write(`${run.source} line ${line}: ${reason.replace(/[^\x20-\x7e]/g, '?')}\n`);
  // Written with the next batch: one transaction (one fsync) per batch, not per bad row.
  run.pendingRejects.push({ line, reason, raw: raw.slice(0, 4096) });
}

function request(run: ImportRun, row: Extract<ReturnType<typeof importRow>, { ok: true }>, line: number) {
  const { providers } = run.target;
  const why = run.reason ?? `imported from ${run.format} (${basename(run.source)})`;
  return {
    subject: row.address,
    kind: 'manual',
    category: row.category,
    reason: row.reason ? `${why}: ${row.reason}` : why,
    recordKey: `import:${run.format}:${basename(run.source)}:${line}`,
    at: row.at ?? run.io.now(),
    providers,
    recordType: `import:${run.format}`,
    // Recorded only: nothing is owed, so no later record calls a provider for it.
    providersDone: run.apply ? [] : providers,
  } satisfies SuppressionRequest;
}

async function flush(
  run: ImportRun,
  batch: Array<{ line: number; request: SuppressionRequest }>,
): Promise<void> {
  const { store } = run.target;
  if (run.pendingRejects.length > 0)
    await run.target.recordRejects(
      run.pendingRejects.splice(0, run.pendingRejects.length),
      run.source,
      run.io.now(),
    );
  if (batch.length === 0) return;
  const items = batch.splice(0, batch.length);
  const outcomes = await store.suppress(items.map((i) => i.request));
  const audit: AuditEntry[] = [];
  const actions: Action[] = [];
  outcomes.forEach((o, i) => {
    const { request: r, line } = items[i]!;
    const fresh = o.state === 'new';
    if (fresh) run.summary.imported += 1;
    else run.summary.already += 1;
    audit.push({
      subject: r.subject,
      at: run.io.now(),
      type: 'decision',
      action: fresh ? 'import' : 'already-suppressed',
      reason: `${r.reason}${run.apply ? '' : ' (recorded only)'}`,
      line,
      recordKey: r.recordKey,
    });
    if (run.apply && o.pendingProviders.length > 0)
      actions.push({
        v: 1,
        id: r.subject,
        subject: r.subject,
        target: { type: 'email', address: r.subject },
        kind: 'manual',
        reason: r.reason,
        category: r.category,
        providers: o.pendingProviders,
      });
  });
  await store.appendAudit(audit);
  if (actions.length === 0) return;
  run.summary.actions += actions.length;
  const counts = await run.target.act(actions);
  run.summary.done += counts.done;
  run.summary.failed += counts.failed;
  run.summary.queued += counts.queued;
}

/** Streams the file through the CSV parser; returns a usage error text when the header is unusable. */
async function readRows(run: ImportRun, input: Readable): Promise<string | undefined> {
  const parser = input.pipe(parse({ bom: true, relax_column_count: true, info: true }));
  let columns: ImportColumns | undefined;
  let nextLine = 1;
  const batch: Array<{ line: number; request: SuppressionRequest }> = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{
      record: string[];
      info: { lines: number };
    }>) {
      const line = nextLine;
      nextLine = info.lines + 1;
      if (record.length === 1 && record[0]!.trim() === '') continue;
      if (!columns) {
        const resolved = resolveColumns(run.format, record);
        if ('error' in resolved) return `${run.source} line ${line}: ${resolved.error}`;
        columns = resolved;
        continue;
      }
      run.summary.rows += 1;
      const row = importRow(run.format, columns, record);
      if (row.ok) batch.push({ line, request: request(run, row, line) });
      else if (row.skip) run.summary.skipped += 1;
      else reject(run, line, row.reason, record.join(','));
      if (batch.length + run.pendingRejects.length >= BATCH_ROWS) await flush(run, batch);
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    // An unclosed quote swallows the rest of the file: one reject from where it opened.
    reject(run, nextLine, `${error.code}: ${error.message.slice(0, 200)}`, '');
  }
  await flush(run, batch);
  return columns ? undefined : `${run.source}: no header line`;
}

function formatSummary(s: ImportSummary, apply: boolean): string {
  const base = `rows=${s.rows} imported=${s.imported} already=${s.already} skipped=${s.skipped} rejected=${s.rejected}`;
  if (!apply) return `${base} (recorded only)`;
  return `${base} actions=${s.actions} done=${s.done} failed=${s.failed}${s.queued ? ` queued=${s.queued}` : ''}`;
}

async function importCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseImportArgs(argv);
  const format = values.format ?? 'csv';
  const file = positionals[0];
  if (!file || positionals.length > 1 || !isImportFormat(format)) {
    io.stderr.write(`${USAGE}\n`);
    return ExitCode.usage;
  }
  if (file !== '-' && !statSync(file, { throwIfNoEntry: false })?.isFile()) {
    io.stderr.write(`pmta-bounce suppressions import: cannot read ${file}\n`);
    return ExitCode.usage;
  }
  const { config } = loadConfigFile(values.config, io.env);
  warnLiteralSecrets(config, io.stderr);
  if (values.apply && values.table && !values['actions-queue']) {
    io.stderr.write(
      `pmta-bounce suppressions import: --apply with --table needs --actions-queue URL\n${USAGE}\n`,
    );
    return ExitCode.usage;
  }
  const target = await openImportTarget(config, values, io);
  const summary: ImportSummary = {
    rows: 0,
    imported: 0,
    already: 0,
    skipped: 0,
    rejected: 0,
    rejects: [],
    actions: 0,
    done: 0,
    failed: 0,
    queued: 0,
  };
  const source = file === '-' ? 'stdin' : file;
  const run: ImportRun = {
    pendingRejects: [],
    format,
    source,
    reason: values.reason,
    apply: values.apply ?? false,
    target,
    io,
    summary,
  };
  let problem: string | undefined;
  try {
    const input = file === '-' ? io.stdin : createReadStream(file, { highWaterMark: 256 * 1024 });
    problem = await readRows(run, input);
  } finally {
    await target.close();
  }
  if (problem) {
    io.stderr.write(`pmta-bounce suppressions import: ${problem}\n`);
    return ExitCode.usage;
  }
  io.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : `${formatSummary(summary, run.apply)}\n`);
  return summary.failed > 0 ? ExitCode.actionsFailed : ExitCode.ok;
}

export type { ImportSummary };
export { importCommand };
