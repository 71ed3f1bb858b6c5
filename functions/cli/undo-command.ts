/**
 * `pmta-bounce undo [selection] [--dry-run] [--json] [--yes]`: reverses wrong suppressions. Selects
 * them from the state and its audit (core/suppressions/suppression-ledger.ts); each selected one is
 * forgotten by the state (the audit keeps it and records the undo) and every subscription this
 * product changed is put back through the outbox (core/act/undo-action.ts), with the usual retries.
 * A subscriber's own unsubscribe is never undone; lists that were already unsubscribed when we
 * came are never touched. --dry-run prints the selection and the planned calls; on a terminal it
 * asks before acting, scripts pass --yes. With --table the same against the deployed DynamoDB
 * table: the put-backs are queued on the actions queue for `act` (undo-target.ts).
 */
import { parseArgs } from 'node:util';
import type { Action } from '#core/act/action.ts';
import type { ActionResult } from '#core/act/run-action.ts';
import type { AuditEntry } from '#core/ports.ts';
import type { SuppressionFilter } from '#core/suppressions/suppression-ledger.ts';
import { plannedCalls, planUndo, type UndoStep } from '#core/suppressions/undo-plan.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { stamp } from './run-log.ts';
import { QUEUE_OPTIONS, TABLE_OPTIONS } from './table-clients.ts';
import { openUndoTarget, type UndoRecord, type UndoTarget } from './undo-target.ts';
import { parseWhen } from './when.ts';

const USAGE =
  'usage: pmta-bounce undo [--since T] [--until T] [--category C]... [--rule ID] [--reason R] [--job J] [--provider ID] [--address A]... [--dry-run] [--json] [--yes] [--config F] [--state F | --table NAME [--region R] [--endpoint URL] [--actions-queue URL] [--sqs-endpoint URL]]';

/** A planned step, or the one an interrupted `undo --table` left on the item (resumed as it was). */
type Step =
  | UndoStep
  | { subject: string; record: UndoRecord; id: string; action: Action | undefined; audit: AuditEntry };

interface UndoSummary {
  selected: number;
  undone: number;
  skipped: Array<{ address: string; why: string }>;
  /** Subscriptions: put back, to be done by hand, failed (still in the outbox), left as they were. */
  done: number;
  manual: Array<{ address: string; provider: string; list: string }>;
  failed: number;
  leftAlone: number;
  /** --table: undo actions put on the actions queue (act does the put-backs and audits them). */
  queued: number;
  /** --table: why the run stopped (the table or the queue failed); the same undo finishes it. */
  error?: string;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      category: { type: 'string', multiple: true },
      rule: { type: 'string' },
      reason: { type: 'string' },
      job: { type: 'string' },
      provider: { type: 'string' },
      address: { type: 'string', multiple: true },
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      yes: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      config: { type: 'string' },
      state: { type: 'string' },
      ...TABLE_OPTIONS,
      ...QUEUE_OPTIONS,
    },
  });
}

type UndoArgs = ReturnType<typeof parse>['values'];

function filterOf(v: UndoArgs): SuppressionFilter {
  return {
    ...(v.since ? { since: parseWhen(v.since, '--since') } : {}),
    ...(v.until ? { until: parseWhen(v.until, '--until') } : {}),
    ...(v.category ? { categories: v.category } : {}),
    ...(v.rule ? { rule: v.rule } : {}),
    ...(v.reason ? { reason: v.reason } : {}),
    ...(v.job ? { jobId: v.job } : {}),
    ...(v.provider ? { provider: v.provider } : {}),
    ...(v.address
      ? { subjects: v.address.map((a) => (a.startsWith('ref:') ? a : a.trim().toLowerCase())) }
      : {}),
  };
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

function renderPlan(steps: readonly Step[]): string {
  const out: string[] = [];
  for (const step of steps) {
    if ('skip' in step) {
      out.push(`${step.subject}: skipped (${step.skip})`);
      continue;
    }
    if ('audit' in step) {
      out.push(`${step.subject}: an undo started ${stamp(step.audit.at)} was interrupted: finishing it`);
      continue;
    }
    const r = step.record;
    const why = [r.category, r.rule && `rule ${r.rule}`, r.jobId && `job ${r.jobId}`]
      .filter(Boolean)
      .join(', ');
    out.push(`${r.subject}: suppressed ${stamp(r.at)} (${r.kind}${why ? `, ${why}` : ''}): ${r.reason}`);
    const calls = plannedCalls(r);
    if (calls.length === 0) out.push('  no provider changed anything: state only');
    for (const c of calls) out.push(`  put back: ${c}`);
  }
  return `${out.map(printable).join('\n')}\n`;
}

/** On a terminal: ask. Elsewhere --yes is required, so a script never acts by accident. */
async function confirmed(io: CliIo, count: number, yes: boolean): Promise<boolean | 'no-tty'> {
  if (yes) return true;
  if (!io.stdin.isTTY || !io.stderr.isTTY) return 'no-tty';
  io.stderr.write(`Undo ${count} suppression(s) and put back the subscriptions above? [y/N] `);
  for await (const chunk of io.stdin) return /^\s*y(es)?\s*$/i.test(String(chunk));
  return false;
}

function count(summary: UndoSummary, result: ActionResult): void {
  for (const o of result.outcomes) {
    const planned = result.action.undo?.lists[o.provider] ?? [];
    if (o.outcome === 'failed') {
      summary.failed += planned.length;
      continue;
    }
    for (const list of o.lists ?? []) {
      if (list.outcome === 'done') summary.done += 1;
      else if (list.outcome === 'manual')
        summary.manual.push({ address: result.action.subject, provider: o.provider, list: list.listId });
      else summary.leftAlone += 1;
    }
  }
}

function formatSummary(s: UndoSummary): string {
  const lines = [
    `selected=${s.selected} undone=${s.undone} skipped=${s.skipped.length} done=${s.done} manual=${s.manual.length} failed=${s.failed} left-alone=${s.leftAlone}${s.queued ? ` queued=${s.queued}` : ''}`,
  ];
  for (const k of s.skipped) lines.push(`skipped: ${k.address}: ${k.why}`);
  if (s.queued > 0)
    lines.push(
      'queued: act puts them back; `pmta-bounce status ADDRESS --table NAME` shows each resubscribe',
    );
  for (const m of s.manual)
    lines.push(`manual: ${m.address} at ${m.provider} list ${m.list}: resubscribe by hand`);
  if (s.error) lines.push(`stopped: ${s.error}`);
  else if (s.failed > 0) lines.push('failed calls stay in the outbox: `pmta-bounce retry` runs them again');
  return `${lines.map(printable).join('\n')}\n`;
}

/** The step for one selected suppression: the interrupted undo stored on it, or a new plan. */
function stepOf(record: UndoRecord, why: string, at: number): Step {
  const p = record.pendingUndo;
  if (p) return { subject: record.subject, record, id: p.id, action: p.action, audit: p.audit };
  return planUndo(record, why, at);
}

async function undoCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv);
  if (values.help) {
    io.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const filter = filterOf(values);
  if (values.table && !values['dry-run'] && !values['actions-queue']) {
    io.stderr.write(`pmta-bounce undo: --table needs --actions-queue URL (or --dry-run)\n${USAGE}\n`);
    return ExitCode.usage;
  }
  const target = await openUndoTarget(values, io);
  try {
    const at = io.now();
    const why = `undo${values.reason ? ` (${values.reason})` : ''} by operator`;
    const steps: Step[] = [];
    for await (const record of target.select(filter)) steps.push(stepOf(record, why, at));
    if (values['dry-run']) {
      io.stdout.write(
        values.json ? `${JSON.stringify({ dryRun: true, steps })}\n` : `[dry run]\n${renderPlan(steps)}`,
      );
      return ExitCode.ok;
    }
    if (!values.json) io.stderr.write(renderPlan(steps));
    const work = steps.filter((s) => !('skip' in s));
    const ok = work.length === 0 ? true : await confirmed(io, work.length, values.yes ?? false);
    if (ok === 'no-tty') {
      io.stderr.write('pmta-bounce undo: not a terminal: pass --yes to act (or --dry-run to look)\n');
      return ExitCode.usage;
    }
    if (!ok) {
      io.stderr.write('pmta-bounce undo: nothing done\n');
      return ExitCode.ok;
    }
    const summary = await execute(steps, target, io);
    io.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : formatSummary(summary));
    return summary.failed > 0 ? ExitCode.actionsFailed : ExitCode.ok;
  } finally {
    await target.close();
  }
}

async function execute(steps: readonly Step[], target: UndoTarget, io: CliIo): Promise<UndoSummary> {
  const summary: UndoSummary = {
    selected: steps.length,
    undone: 0,
    skipped: [],
    done: 0,
    manual: [],
    failed: 0,
    leftAlone: 0,
    queued: 0,
  };
  const actions = [];
  for (const step of steps) {
    if ('skip' in step) {
      summary.skipped.push({ address: step.subject, why: step.skip });
      continue;
    }
    const audit: AuditEntry =
      'audit' in step
        ? step.audit
        : {
            subject: step.subject,
            at: io.now(),
            type: 'decision',
            action: 'undo',
            reason: `${step.action?.reason ?? 'undo by operator'}; was: ${step.record.reason}`,
          };
    let outcome: Awaited<ReturnType<UndoTarget['forget']>>;
    try {
      outcome = await target.forget(step.record, { id: step.id, audit, action: step.action });
    } catch (error) {
      // The table or the queue failed: what was started is on the item, the next run finishes it.
      summary.failed += 1;
      summary.error = `${step.subject}: ${error instanceof Error ? error.message : String(error)}; run the same undo again to finish`;
      break;
    }
    if (outcome === 'busy')
      summary.skipped.push({
        address: step.subject,
        why: 'an action is running for it: run undo again later',
      });
    if (outcome !== 'undone') continue;
    summary.undone += 1;
    if (!step.action) continue;
    if (target.queued) summary.queued += 1;
    else actions.push(step.action);
  }
  await target.run(actions, (r) => count(summary, r));
  summary.manual.sort((a, b) => a.address.localeCompare(b.address) || a.provider.localeCompare(b.provider));
  return summary;
}

export type { UndoSummary };
export { undoCommand };
