/**
 * `pmta-bounce retry [--provider ID]`: runs the outbox again — pending actions and the ones parked
 * after a permanent provider error (core/act/action-outbox.ts) — once the configuration is fixed.
 * With --provider, only what is owed to that provider. Exit 0 when everything it ran finished, 3
 * when something is still owed (the summary says what), 2 on a usage or configuration error.
 */
import { parseArgs } from 'node:util';
import type { ActionResult } from '#core/act/run-action.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import { warnLiteralSecrets } from './config-warnings.ts';
import { createLocalRuntime, DEFAULT_STATE_PATH } from './local-runtime.ts';
import { parkedIn, runOutboxActions } from './outbox-runner.ts';
import { createRunLog } from './run-log.ts';

const USAGE =
  'usage: pmta-bounce retry [--provider ID] [--config F] [--state F] [--json] [--debug] [--logfile=PATH]';

interface RetrySummary {
  retried: number;
  done: number;
  failed: number;
  parked: number;
  /** Actions still in the outbox afterwards (for any provider). */
  pending: number;
  providerCalls: Record<string, number>;
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      provider: { type: 'string' },
      config: { type: 'string' },
      state: { type: 'string' },
      json: { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      logfile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
}

function count(summary: RetrySummary, result: ActionResult): void {
  if (result.complete) summary.done += 1;
  else summary.failed += 1;
  if (parkedIn(result)) summary.parked += 1;
  for (const o of result.outcomes)
    summary.providerCalls[o.provider] = (summary.providerCalls[o.provider] ?? 0) + o.calls;
}

async function retryCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parse(argv);
  if (args.values.help) {
    io.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const { config } = loadConfigFile(args.values.config, io.env);
  warnLiteralSecrets(config, io.stderr);
  const only = args.values.provider;
  if (only !== undefined && !config.providers.some((p) => p.id === only)) {
    const ids = config.providers.map((p) => p.id).join(', ') || 'none';
    io.stderr.write(
      `pmta-bounce retry: no provider ${JSON.stringify(only)} (configured: ${ids})\n${USAGE}\n`,
    );
    return ExitCode.usage;
  }
  const log = createRunLog({
    debug: args.values.debug ?? false,
    logfile: args.values.logfile,
    console: io.stderr,
    now: io.now,
  });
  const statePath = args.values.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH;
  const runtime = createLocalRuntime(config, { statePath, dryRun: false });
  const summary: RetrySummary = { retried: 0, done: 0, failed: 0, parked: 0, pending: 0, providerCalls: {} };
  try {
    const actions = runtime.outbox.pending({ parked: true, ...(only ? { provider: only } : {}) });
    summary.retried = actions.length;
    await runOutboxActions(actions, { ...runtime, now: io.now }, (r) => {
      count(summary, r);
      for (const o of r.outcomes)
        log(`  ${o.provider}: ${r.action.subject} ${o.outcome}${o.error ? `: ${o.error}` : ''}`);
    });
    summary.pending = runtime.outbox.summary().pending;
  } finally {
    await runtime.close();
  }
  const line = `retried=${summary.retried} done=${summary.done} failed=${summary.failed} parked=${summary.parked} pending=${summary.pending}`;
  io.stdout.write(args.values.json ? `${JSON.stringify(summary)}\n` : `${line}\n`);
  log(`done: ${line}`);
  return summary.failed > 0 ? ExitCode.actionsFailed : ExitCode.ok;
}

export type { RetrySummary };
export { retryCommand };
