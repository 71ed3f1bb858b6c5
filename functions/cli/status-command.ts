/**
 * `pmta-bounce status EMAIL`: suppression state, soft-bounce counters and the audit trail of one
 * address (or provider-id subject `ref:<type>:<list>:<subscriber>`) in order — decisions, imports
 * (`import`), undos (`undo`, then each provider's `resubscribe`) — and the providers it is parked
 * at. Without EMAIL: the outbox — pending actions, and those parked after a permanent provider error
 * (core/act/action-outbox.ts), per provider with the last error. `--table NAME` reads one subject
 * from the deployed DynamoDB table instead (standard AWS credentials; GetItem and Query).
 */
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import type { OutboxSummary, ParkedProvider, SubjectStatus } from '#core/ports.ts';
import { type UnsubscribeAge, unsubscribeAge } from '#core/unsubscribe/unsubscribe-age.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { DEFAULT_STATE_PATH } from './local-runtime.ts';
import { stamp } from './run-log.ts';
import { openTableClients, TABLE_OPTIONS } from './table-clients.ts';

const USAGE =
  'usage: pmta-bounce status [EMAIL] [--state F] [--json]\n       pmta-bounce status EMAIL --table NAME [--region R] [--endpoint URL] [--json]';

/** Reasons quote input (e.g. an unknown bounceCat): control characters are shown escaped, one line each. */
function oneLine(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function renderOutbox(summary: OutboxSummary): string {
  const out = [`outbox: ${summary.pending} pending action(s), ${summary.parkedActions} parked`];
  for (const p of summary.parked)
    out.push(`  parked at ${p.provider}: ${p.actions} action(s), last ${stamp(p.lastAt)}: ${p.lastError}`);
  if (summary.parkedActions > 0) out.push('  fix the configuration, then: pmta-bounce retry [--provider ID]');
  return `${out.map(oneLine).join('\n')}\n`;
}

/** Unsubscribe requests owed for more than 24 h: the 48-hour promise is at risk. */
function renderOverdue(age: UnsubscribeAge): string {
  if (age.overdue.length === 0) return '';
  const out = [`unsubscribe requests older than 24 h, not yet done: ${age.overdue.length}`];
  for (const o of age.overdue.slice(0, 50))
    out.push(
      `  ${oneLine(o.subject)} requested ${new Date(o.requestedAt).toISOString()} (${Math.floor(o.ageMs / 3_600_000)} h) pending at ${o.providers.join(', ')}`,
    );
  if (age.overdue.length > 50) out.push(`  ... ${age.overdue.length - 50} more (--json lists all)`);
  return `${out.join('\n')}\n`;
}

function renderParked(parked: readonly ParkedProvider[]): string {
  return parked
    .map((p) => `${oneLine(`  parked at ${p.provider} since ${stamp(p.at)}: ${p.error}`)}\n`)
    .join('');
}

function render(status: SubjectStatus): string {
  const out: string[] = [];
  const s = status.suppressed;
  if (s) {
    out.push(
      `${status.subject}: SUPPRESSED since ${stamp(s.at)} (${s.kind}${s.category ? `, ${s.category}` : ''})`,
    );
    out.push(`  reason: ${s.reason}`);
    out.push(`  providers done: ${s.providersDone.join(', ') || 'none'}`);
    // Unverified ids (a mailto unsubscribe) until a provider confirms the subscription exists.
    if (s.expiresAt !== undefined)
      out.push(`  provisional: no provider has confirmed the subscription; expires ${stamp(s.expiresAt)}`);
  } else {
    out.push(`${status.subject}: not suppressed`);
  }
  if (status.softBounces.length > 0) {
    const latest = status.softBounces[status.softBounces.length - 1]!;
    out.push(`  soft bounces: ${status.softBounces.length} (latest ${stamp(latest.at)})`);
  }
  out.push(`  audit (${status.audit.length}):`);
  for (const a of status.audit) {
    const where = a.line !== undefined ? ` line ${a.line}` : '';
    if (a.type === 'decision') {
      out.push(`    ${stamp(a.at)} decision ${a.action}${where}: ${a.reason}`);
    } else {
      const lists = a.lists?.map((l) => `${l.listName ?? l.listId}=${l.outcome}`).join(', ');
      out.push(
        `    ${stamp(a.at)} provider ${a.provider}${a.action === 'unsubscribe' ? '' : ` ${a.action}`} ${a.outcome}${lists ? ` [${lists}]` : ''}${a.outcome === 'failed' ? `: ${a.reason}` : ''}`,
      );
    }
  }
  return `${out.map(oneLine).join('\n')}\n`;
}

const OPTIONS = {
  state: { type: 'string' },
  json: { type: 'boolean' },
  ...TABLE_OPTIONS,
} as const;

function parseStatusArgs(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
}

async function statusCommand(argv: string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseStatusArgs>;
  try {
    parsed = parseStatusArgs(argv);
  } catch (error) {
    io.stderr.write(`pmta-bounce status: ${(error as Error).message}\n${USAGE}\n`);
    return ExitCode.usage;
  }
  const subject = parsed.positionals[0]?.trim();
  if (subject === '' || parsed.positionals.length > 1 || (parsed.values.table && subject === undefined)) {
    io.stderr.write(`${USAGE}\n`);
    return ExitCode.usage;
  }
  const json = parsed.values.json ?? false;
  if (parsed.values.table) return tableStatus(subjectKey(subject!), parsed.values, json, io);
  const path = parsed.values.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  if (!existsSync(path)) {
    io.stderr.write(`pmta-bounce status: no state at ${path} (run process first, or pass --state)\n`);
    return ExitCode.usage;
  }
  const real = new SqliteSuppressionStore({ path });
  try {
    if (subject === undefined) {
      const summary = real.outbox.summary();
      const age = unsubscribeAge(real.outbox.pending({ parked: true }), io.now());
      io.stdout.write(
        json
          ? `${JSON.stringify({ ...summary, unsubscribes: age })}\n`
          : renderOutbox(summary) + renderOverdue(age),
      );
      return ExitCode.ok;
    }
    const key = subjectKey(subject);
    const status = await real.status(key);
    const parked = real.outbox.parkedFor(key);
    io.stdout.write(
      json ? `${JSON.stringify({ ...status, parked })}\n` : render(status) + renderParked(parked),
    );
    return ExitCode.ok;
  } finally {
    await real.close();
  }
}

function subjectKey(subject: string): string {
  return subject.startsWith('ref:') ? subject : subject.toLowerCase();
}

/** One subject of the deployed table: its suppression item, soft bounces and audit trail. */
async function tableStatus(
  subject: string,
  values: { table?: string | undefined; region?: string | undefined; endpoint?: string | undefined },
  json: boolean,
  io: CliIo,
): Promise<number> {
  const { DynamoDbSuppressionStore } = await import('#adapters/dynamodb/dynamodb-suppression-store.ts');
  const clients = await openTableClients(values);
  try {
    const store = new DynamoDbSuppressionStore({
      client: clients.documents,
      table: values.table!,
      now: io.now,
    });
    const status = await store.status(subject);
    io.stdout.write(json ? `${JSON.stringify(status)}\n` : render(status));
    return ExitCode.ok;
  } finally {
    clients.close();
  }
}

export { statusCommand };
