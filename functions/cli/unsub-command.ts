/**
 * `pmta-bounce unsub --from ADDR --to ADDR`: the PowerMTA `type pipe` handler for mailto
 * List-Unsubscribe mail on the PowerMTA box. The message arrives on stdin; only its header block
 * is kept (bounded, for the Message-ID), the rest is drained and discarded, never logged. The same
 * core check as the SES function decides; the suppression goes to the local SQLite state and the
 * action runs at once against the configured providers.
 *
 * Refused mail (unknown domain, malformed or unsigned address) exits 0: bouncing it would only send
 * backscatter to the unsubscriber. 75 (EX_TEMPFAIL) when the state cannot be written or the mail is
 * over a rate limit, so the MTA may try again later. The pipe has no SES verdicts: signing and the
 * provider's word on the subscription are its defences (docs/security.md, "PowerMTA pipe").
 */
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { hmacSha256 } from '#adapters/crypto/hmac-sha256.ts';
import type { ActionResult } from '#core/act/run-action.ts';
import type { Config } from '#core/config-schema.ts';
import type { Router } from '#core/decide/routing.ts';
import { StoreError } from '#core/errors.ts';
import type { ActionOutbox, ListProvider, RateCounter, SuppressionStore } from '#core/ports.ts';
import { printable } from '#core/unsubscribe/inbound-unsubscribe.ts';
import { headerValue, parseMailHeaders } from '#core/unsubscribe/mail-headers.ts';
import {
  type InboundUnsubscribeOutcome,
  recordInboundUnsubscribes,
} from '#core/unsubscribe/record-inbound-unsubscribes.ts';
import { inboundUnsubscribeSettings } from '#core/unsubscribe/unsubscribe-settings.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import { createLocalRuntime, DEFAULT_STATE_PATH } from './local-runtime.ts';
import { runOutboxActions } from './outbox-runner.ts';
import { createRunLog } from './run-log.ts';

const USAGE =
  'usage: pmta-bounce unsub --from ADDR --to ADDR [--to ADDR ...] [--config F] [--state F] [--dry-run] [--json] [--debug] [--logfile=PATH]  (message on stdin)';

/** EX_TEMPFAIL (sysexits.h): the state could not be written; try again later. */
const EXIT_TEMPFAIL = 75;
/** Header bytes kept from stdin; the body is never needed. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Bytes drained before we stop reading (the MTA then sees a closed pipe, which is fine). */
const MAX_DRAIN_BYTES = 32 * 1024 * 1024;
const STDIN_TIMEOUT_MS = 30_000;

/** What `unsub` needs of the outbox: actions go in before any provider call. */
type UnsubOutbox = Pick<ActionOutbox, 'enqueue' | 'complete' | 'park'>;

interface UnsubRuntime {
  store: SuppressionStore;
  outbox: UnsubOutbox;
  providers: ReadonlyMap<string, ListProvider>;
  router: Router;
  /** Counters of unsubscribe.rateLimit (the SQLite state); absent = no limit. */
  rateCounter?: RateCounter | undefined;
  close(): Promise<void>;
}

/** What the command needs from the outside; the defaults are local mode's real wiring. */
interface UnsubCommandDeps {
  loadConfig(path: string | undefined, env: Record<string, string | undefined>): Config;
  openRuntime(config: Config, options: { statePath: string; dryRun: boolean }): UnsubRuntime;
}

const defaultUnsubDeps: UnsubCommandDeps = {
  loadConfig: (path, env) => loadConfigFile(path, env).config,
  openRuntime: (config, options) => {
    const runtime = createLocalRuntime(config, options);
    return { ...runtime, rateCounter: runtime.store.rateCounter() };
  },
};

/** Reads stdin up to EOF (bounded in bytes and time) and returns the start of it as text. */
async function readMessageHead(stdin: Readable & { isTTY?: boolean }): Promise<string> {
  if (stdin.isTTY) return '';
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let total = 0;
  await new Promise<void>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.off('error', finish);
      stdin.pause();
      resolve();
    };
    const onData = (chunk: Buffer | string) => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      total += buf.length;
      if (keptBytes < MAX_HEAD_BYTES) {
        const part = buf.subarray(0, MAX_HEAD_BYTES - keptBytes);
        kept.push(part);
        keptBytes += part.length;
      }
      if (total >= MAX_DRAIN_BYTES) finish();
    };
    const timer = setTimeout(finish, STDIN_TIMEOUT_MS);
    timer.unref?.();
    stdin.on('data', onData);
    stdin.once('end', finish);
    stdin.once('error', finish);
  });
  return Buffer.concat(kept).toString('utf8');
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      from: { type: 'string' },
      to: { type: 'string', multiple: true },
      config: { type: 'string' },
      state: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      debug: { type: 'boolean', default: false },
      logfile: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
}

/** A Message-ID usable in a record key: printable, bounded; otherwise a time-based one. */
function mailIdOf(head: string, now: number): string {
  const id = headerValue(parseMailHeaders(head).headers, 'Message-ID')?.replace(/[<>\s]/g, '');
  return id && /^[\x21-\x7e]{1,200}$/.test(id) ? id : `pipe-${now}`;
}

/** The command's answer: one JSON object (`--json`) or one line per recipient. */
function writeOutcome(
  io: CliIo,
  json: boolean,
  outcome: InboundUnsubscribeOutcome,
  results: readonly ActionResult[],
  failed: number,
): void {
  if (!json) {
    for (const r of outcome.results)
      io.stdout.write(
        `${printable(r.recipient, 300)}: ${r.verdict}${r.state ? ` (${r.state})` : ''} — ${r.reason}\n`,
      );
    return;
  }
  const providerCalls: Record<string, number> = {};
  for (const o of results.flatMap((r) => r.outcomes))
    providerCalls[o.provider] = (providerCalls[o.provider] ?? 0) + o.calls;
  const summary = { recipients: outcome.results, actions: outcome.actions.length, failed, providerCalls };
  io.stdout.write(`${JSON.stringify(summary)}\n`);
}

async function unsubCommand(
  argv: string[],
  io: CliIo,
  deps: UnsubCommandDeps = defaultUnsubDeps,
): Promise<number> {
  let args: ReturnType<typeof parse>;
  try {
    args = parse(argv);
  } catch (error) {
    io.stderr.write(`pmta-bounce unsub: ${(error as Error).message}\n${USAGE}\n`);
    return ExitCode.usage;
  }
  if (args.values.help) {
    io.stdout.write(`${USAGE}\n`);
    return ExitCode.ok;
  }
  const recipients = args.values.to ?? [];
  if (recipients.length === 0 || recipients.some((t) => t.trim() === '')) {
    io.stderr.write(`pmta-bounce unsub: --to is required\n${USAGE}\n`);
    return ExitCode.usage;
  }
  const config = deps.loadConfig(args.values.config, io.env);
  const log = createRunLog({
    debug: args.values.debug ?? false,
    logfile: args.values.logfile,
    console: io.stderr,
    now: io.now,
  });
  // Read (and discard) the message before anything else so the MTA's write never blocks on us.
  const head = await readMessageHead(io.stdin);
  const receivedAt = io.now();
  const dryRun = args.values['dry-run'] ?? false;
  let runtime: UnsubRuntime;
  try {
    runtime = deps.openRuntime(config, {
      statePath: args.values.state ?? io.env.PMTA_BOUNCE_STATE ?? DEFAULT_STATE_PATH,
      dryRun,
    });
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    io.stderr.write(`pmta-bounce unsub: ${error.message}\n`);
    return EXIT_TEMPFAIL;
  }
  try {
    const outcome = await recordInboundUnsubscribes(
      { recipients, verdicts: {}, mailId: mailIdOf(head, receivedAt), receivedAt, sender: args.values.from },
      inboundUnsubscribeSettings(config, runtime.router, hmacSha256),
      runtime.store,
      runtime.rateCounter,
    );
    const from = printable(args.values.from ?? '');
    for (const r of outcome.results)
      log(
        `unsub from=${from} to=${printable(r.recipient, 300)}: ${r.verdict} ${r.state ?? ''} — ${r.reason}`,
      );
    const results: ActionResult[] = [];
    if (!dryRun && outcome.actions.length > 0) {
      // Outbox first, as `process` does: a provider that is down cannot lose the unsubscribe (the
      // MTA will not deliver this mail again); the next `process` or `retry` run delivers it.
      runtime.outbox.enqueue(outcome.actions);
      const deps = { ...runtime, now: io.now };
      await runOutboxActions(outcome.actions, deps, (r) => results.push(r), 1);
    }
    for (const result of results)
      for (const o of result.outcomes)
        log(`  ${o.provider}: ${result.action.subject} ${o.outcome}${o.error ? `: ${o.error}` : ''}`);
    const failed = results.filter((r) => !r.complete).length;
    writeOutcome(io, args.values.json ?? false, outcome, results, failed);
    if (outcome.deferred) return EXIT_TEMPFAIL;
    return failed > 0 ? ExitCode.actionsFailed : ExitCode.ok;
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    io.stderr.write(`pmta-bounce unsub: ${error.message}\n`);
    return EXIT_TEMPFAIL;
  } finally {
    await runtime.close();
  }
}

export type { UnsubCommandDeps, UnsubOutbox, UnsubRuntime };
export { defaultUnsubDeps, EXIT_TEMPFAIL, readMessageHead, unsubCommand };
