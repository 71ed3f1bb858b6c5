/**
 * `pmta-bounce` command dispatcher. Configuration errors exit 2 with the key path named.
 */
import { ConfigError, StoreError } from '#core/errors.ts';
import { checkCommand } from './check-command.ts';
import { type CliIo, ExitCode, processIo } from './cli-io.ts';
import { processCommand } from './process-command.ts';
import { retryCommand } from './retry-command.ts';
import { statusCommand } from './status-command.ts';

const HELP = `pmta-bounce — bounce, complaint and unsubscribe handler for PowerMTA

commands:
  process [FILE ... | -]   read accounting CSV (or a plain address CSV) and act on it
      --config F --state F --dry-run --report F --json --debug --logfile=PATH
  status [EMAIL]           suppression state, counters and audit trail of one address;
                           without EMAIL: pending and parked actions of the outbox
  retry [--provider ID]    run pending and parked actions again (after a configuration fix)
  status EMAIL             suppression state, counters and audit trail of one address
      --table NAME [--region R]: of the deployed DynamoDB table
  explain "REPLY"          the verdict for one remote reply and the rule that decided it
      --status 5.1.1 --category C --recipient A --json
  backtest FILE... --rules F   what candidate classification rules would change, with examples
  report                   deliverability: complaint rates, blocks, guardrails (--json, --html F)
      --state F --config F --since DATE --until DATE
  check                    validate the configuration and each provider's credentials
  suppressions export [--format csv|json] [--since D] [--reason R] [--table NAME]
                           every suppression: when, why, which providers and lists changed
  suppressions import FILE [--format csv|mailgun|ses|sendgrid|mailwizz] [--reason R] [--apply]
                           add another sender's suppressions (--apply: unsubscribe at providers)
  undo [--since T] [--until T] [--category C]... [--rule ID] [--job J] [--address A]... [--dry-run] [--yes]
                           reverse wrong suppressions: state and every subscription we changed
      --table NAME --actions-queue URL [--region R]: on the deployed table, put-backs run by act
  unsub --from A --to A    PowerMTA "type pipe" handler for mailto unsubscribes (message on stdin)
  serve [--listen H:P]     one-click unsubscribe endpoint (RFC 8058) on 127.0.0.1:8025
      --config F --state F
  headers [--provider ID]  the List-Unsubscribe header lines to paste into the list manager
  sandbox [--config F]     the whole cloud path on this machine (SQS + DynamoDB emulators, handlers)
  redrive                  move a sandbox dead-letter queue back to its source queue
exit codes: 0 done, 2 usage or configuration error, 3 some actions failed,
            75 (unsub) state could not be written: PowerMTA should retry
`;

type Command = (argv: string[], io: CliIo) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  process: processCommand,
  status: statusCommand,
  check: checkCommand,
  explain: async (argv, io) => (await import('./explain-command.ts')).explainCommand(argv, io),
  backtest: async (argv, io) => (await import('./backtest-command.ts')).backtestCommand(argv, io),
  retry: retryCommand,
  report: async (argv, io) => (await import('./report-command.ts')).reportCommand(argv, io),
  // Loaded on demand: the sandbox pulls in the emulators and the AWS SDK, which `process` never needs.
  unsub: async (argv, io) => (await import('./unsub-command.ts')).unsubCommand(argv, io),
  headers: async (argv, io) => (await import('./headers-command.ts')).headersCommand(argv, io),
  serve: async (argv, io) => (await import('./serve-command.ts')).serveCommand(argv, io),
  suppressions: async (argv, io) => (await import('./suppressions-command.ts')).suppressionsCommand(argv, io),
  undo: async (argv, io) => (await import('./undo-command.ts')).undoCommand(argv, io),
  sandbox: async (argv, io) => (await import('#sandbox/sandbox.ts')).sandboxCommand(argv, io),
  redrive: async (argv, io) => (await import('#sandbox/sandbox.ts')).redriveCommand(argv, io),
};

async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(HELP);
    return name ? ExitCode.ok : ExitCode.usage;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.stderr.write(`pmta-bounce: unknown command ${JSON.stringify(name)}\n${HELP}`);
    return ExitCode.usage;
  }
  try {
    return await command(rest, io);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr.write(`pmta-bounce: configuration error: ${error.message}\n`);
      return ExitCode.usage;
    }
    // A command that does not catch its own parseArgs error (unknown option, missing value) is
    // still a usage error: exit 2 with the message, not a stack trace.
    // A --state that is not a database (or cannot be created) is found before anything is read.
    if (error instanceof StoreError && error.message.startsWith('cannot open state')) {
      io.stderr.write(`pmta-bounce ${name}: ${error.message}\n`);
      return ExitCode.usage;
    }
    // Mid-command (a full disk, the audit's decision file): what was being written is rolled back.
    if (error instanceof StoreError) {
      io.stderr.write(`pmta-bounce ${name}: ${error.message}\n`);
      return ExitCode.stateUnavailable;
    }
    if (isArgumentError(error)) {
      io.stderr.write(`pmta-bounce ${name}: ${error.message}\n`);
      return ExitCode.usage;
    }
    throw error;
  }
}

function isArgumentError(error: unknown): error is Error {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}

export { COMMANDS, main };
