/**
 * `pmta-bounce suppressions export|import`: the suppression list this product owns, out to CSV or
 * JSON (with where each came from and what it changed), and in from another sender's export
 * (suppressions-import.ts).
 */
import { existsSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { SqliteSuppressionLedger } from '#adapters/sqlite/sqlite-suppression-ledger.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { exportCsvHeader, exportCsvRow, exportJsonObject } from '#core/suppressions/suppression-export.ts';
import type { SuppressionFilter } from '#core/suppressions/suppression-ledger.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { DEFAULT_STATE_PATH } from './local-runtime.ts';
import { parseWhen } from './when.ts';

const USAGE = `usage: pmta-bounce suppressions export [--format csv|json] [--since D] [--reason R] [--state F]
       pmta-bounce suppressions import FILE [--format csv|mailgun|ses|sendgrid|mailwizz] [--reason R] [--apply] [--json] [--config F] [--state F]`;

async function write(stream: Writable, text: string): Promise<void> {
  if (!stream.write(text)) await new Promise<void>((resolve) => stream.once('drain', resolve));
}

function parseExportArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      format: { type: 'string', default: 'csv' },
      since: { type: 'string' },
      reason: { type: 'string' },
      state: { type: 'string' },
    },
  });
}

/** JSON is one array, written element by element so memory stays flat on a large state. */
async function exportCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseExportArgs(argv);
  if (values.format !== 'csv' && values.format !== 'json') {
    io.stderr.write(`pmta-bounce suppressions export: --format must be csv or json\n${USAGE}\n`);
    return ExitCode.usage;
  }
  const filter: SuppressionFilter = {
    ...(values.since ? { since: parseWhen(values.since, '--since') } : {}),
    ...(values.reason ? { reason: values.reason } : {}),
  };
  const path = values.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  if (!existsSync(path)) {
    io.stderr.write(`pmta-bounce suppressions export: no state at ${path} (pass --state)\n`);
    return ExitCode.usage;
  }
  const store = new SqliteSuppressionStore({ path });
  try {
    const ledger = new SqliteSuppressionLedger(store.db, io.now);
    const json = values.format === 'json';
    await write(io.stdout, json ? '[' : exportCsvHeader());
    let first = true;
    for (const record of ledger.select(filter)) {
      if (json) await write(io.stdout, `${first ? '\n' : ',\n'}${JSON.stringify(exportJsonObject(record))}`);
      else await write(io.stdout, exportCsvRow(record));
      first = false;
    }
    if (json) await write(io.stdout, first ? ']\n' : '\n]\n');
  } finally {
    await store.close();
  }
  return ExitCode.ok;
}

async function suppressionsCommand(argv: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'export') return exportCommand(rest, io);
  if (sub === 'import') return (await import('./suppressions-import-command.ts')).importCommand(rest, io);

  io.stderr.write(`${USAGE}\n`);
  return ExitCode.usage;
}

export { suppressionsCommand, USAGE as SUPPRESSIONS_USAGE };
