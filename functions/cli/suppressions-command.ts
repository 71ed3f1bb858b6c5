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
import type { SuppressionFilter, SuppressionRecord } from '#core/suppressions/suppression-ledger.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { DEFAULT_STATE_PATH } from './local-runtime.ts';
import { TABLE_OPTIONS } from './table-clients.ts';
import { parseWhen } from './when.ts';

const USAGE = `usage: pmta-bounce suppressions export [--format csv|json] [--since D] [--reason R] [--state F | --table NAME [--region R] [--endpoint URL]]
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
      ...TABLE_OPTIONS,
    },
  });
}

interface LedgerSource {
  select(filter: SuppressionFilter): AsyncIterable<SuppressionRecord> | Iterable<SuppressionRecord>;
  close(): Promise<void>;
}

/** The local state file, or with --table the deployed DynamoDB table (standard AWS credentials). */
async function openLedger(
  values: { state?: string; table?: string; region?: string; endpoint?: string },
  io: CliIo,
): Promise<LedgerSource | undefined> {
  if (values.table) {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
    const { DynamoDbSuppressionStore } = await import('#adapters/dynamodb/dynamodb-suppression-store.ts');
    const { DynamoDbSuppressionLedger } = await import('#adapters/dynamodb/dynamodb-suppression-ledger.ts');
    const client = new DynamoDBClient({
      ...(values.region ? { region: values.region } : {}),
      ...(values.endpoint ? { endpoint: values.endpoint } : {}),
    });
    const documents = DynamoDBDocumentClient.from(client);
    const store = new DynamoDbSuppressionStore({ client: documents, table: values.table, now: io.now });
    const ledger = new DynamoDbSuppressionLedger(documents, values.table, store);
    return { select: (filter) => ledger.select(filter), close: async () => client.destroy() };
  }
  const path = values.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  if (!existsSync(path)) {
    io.stderr.write(`pmta-bounce suppressions export: no state at ${path} (pass --state or --table)\n`);
    return undefined;
  }
  const store = new SqliteSuppressionStore({ path });
  const ledger = new SqliteSuppressionLedger(store.db, io.now);
  return { select: (filter) => ledger.select(filter), close: () => store.close() };
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
  const source = await openLedger(values, io);
  if (!source) return ExitCode.usage;
  try {
    const json = values.format === 'json';
    await write(io.stdout, json ? '[' : exportCsvHeader());
    let first = true;
    for await (const record of source.select(filter)) {
      if (json) await write(io.stdout, `${first ? '\n' : ',\n'}${JSON.stringify(exportJsonObject(record))}`);
      else await write(io.stdout, exportCsvRow(record));
      first = false;
    }
    if (json) await write(io.stdout, first ? ']\n' : '\n]\n');
  } finally {
    await source.close();
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
