/**
 * `pmta-bounce report [--state F] [--config F] [--since DATE] [--until DATE] [--json] [--html FILE]`:
 * the deliverability figures from the local state (docs/guardrails.md). Without --json or --html, a
 * compact table on the terminal.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SqliteTrafficStore } from '#adapters/sqlite/sqlite-traffic-store.ts';
import {
  buildDeliverabilityReport,
  type DeliverabilityReport,
} from '#core/guardrails/deliverability-report.ts';
import { describeTrip, guardrailSettings } from '#core/guardrails/guardrails.ts';
import type { TrafficStore } from '#core/ports.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import { DEFAULT_STATE_PATH } from './local-runtime.ts';
import { renderReportHtml } from './report-html.ts';

const USAGE =
  'usage: pmta-bounce report [--state F | --table NAME [--region R] [--endpoint URL]] [--config F] [--since DATE] [--until DATE] [--json] [--html FILE]';

const OPTIONS = {
  state: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
  config: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  json: { type: 'boolean', default: false },
  html: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

/** A day (YYYY-MM-DD, UTC) or an ISO 8601 time; `undefined` when absent; throws with the option named. */
function parseDate(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
  if (Number.isNaN(ms))
    throw new Error(
      `--${option}: not a date (YYYY-MM-DD or ISO 8601): ${JSON.stringify(value.slice(0, 40))}`,
    );
  return ms;
}

const pct = (x: number | null) => (x === null ? '—' : `${(x * 100).toFixed(2)}%`);

function terminalTable(report: DeliverabilityReport): string {
  const head = [
    'sending domain',
    'deliveries',
    'hard',
    'soft',
    'blocks',
    'complaints',
    'complaint rate',
    'state',
  ];
  const rows = report.sendingDomains.map((g) => [
    g.name,
    String(g.deliveries),
    String(g.hardBounces),
    String(g.softBounces),
    String(Object.values(g.blocks).reduce((a, b) => a + b, 0)),
    String(g.complaints),
    pct(g.complaintRate),
    g.guardrail,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const out = [line(head), ...rows.map(line)];
  const providers = report.mailboxProviders.map(
    (g) => `${g.name} ${g.deliveries}d/${g.hardBounces}h/${g.softBounces}s, blocks ${pct(g.blockShare)}`,
  );
  if (providers.length > 0) out.push('', `mailbox providers: ${providers.join('; ')}`);
  const unsub = Object.entries(report.unsubscribes.byProvider).map(([p, n]) => `${p} ${n}`);
  out.push(`unsubscribed per provider: ${unsub.join(', ') || 'none'}`);
  out.push(`pending actions: ${report.pending.actions} (${report.pending.olderThan24h} older than 24 h)`);
  for (const trip of report.guardrails) out.push(`guardrail ${describeTrip(trip)}`);
  if (report.guardrails.length === 0) out.push('guardrails: none tripped');
  return `${out.join('\n')}\n`;
}

type ClosableTrafficStore = TrafficStore & { close(): Promise<void> };

/** The local state file, or with --table the deployed DynamoDB table (standard AWS credentials). */
async function openTrafficStore(
  values: {
    state?: string | undefined;
    table?: string | undefined;
    region?: string | undefined;
    endpoint?: string | undefined;
  },
  io: CliIo,
): Promise<ClosableTrafficStore | undefined> {
  if (values.table) {
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { DynamoDBDocumentClient } = await import('@aws-sdk/lib-dynamodb');
    const { createDynamoDbTrafficStore } = await import('#adapters/dynamodb/dynamodb-traffic-store.ts');
    const client = new DynamoDBClient({
      ...(values.region ? { region: values.region } : {}),
      ...(values.endpoint ? { endpoint: values.endpoint } : {}),
    });
    const store = createDynamoDbTrafficStore(DynamoDBDocumentClient.from(client), values.table, io.now);
    return { ...store, close: async () => client.destroy() };
  }
  const statePath = values.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  if (!existsSync(statePath)) {
    io.stderr.write(`pmta-bounce report: no state at ${statePath} (run process first, or pass --state)\n`);
    return undefined;
  }
  return new SqliteTrafficStore(statePath, { readonly: true });
}

async function reportCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs({ args: argv, allowPositionals: false, options: OPTIONS });
  if (args.values.help) {
    io.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  let since: number | undefined;
  let until: number | undefined;
  try {
    since = parseDate('since', args.values.since);
    until = parseDate('until', args.values.until);
  } catch (error) {
    io.stderr.write(`pmta-bounce report: ${(error as Error).message}\n${USAGE}\n`);
    return ExitCode.usage;
  }
  const { config } = loadConfigFile(args.values.config, io.env);
  const store = await openTrafficStore(args.values, io);
  if (!store) return ExitCode.usage;
  let report: DeliverabilityReport;
  try {
    report = buildDeliverabilityReport({
      rows: await store.trafficRows(since, until),
      settings: guardrailSettings(config.guardrails),
      unsubscribesByProvider: await store.unsubscribesByProvider(since, until),
      pending: await store.pendingSummary(io.now()),
      since,
      until,
    });
  } finally {
    await store.close();
  }
  if (args.values.html) {
    writeFileSync(args.values.html, renderReportHtml(report, io.now()));
    if (!args.values.json) io.stdout.write(`wrote ${args.values.html}\n`);
  }
  if (args.values.json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else if (!args.values.html) io.stdout.write(terminalTable(report));
  return ExitCode.ok;
}

export { reportCommand };
