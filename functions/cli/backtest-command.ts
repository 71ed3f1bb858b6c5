/**
 * `pmta-bounce backtest FILE... --rules candidate.yaml [--examples N] [--json]`: decides every
 * bounce of the files with the configured rules and again with the candidate rules consulted
 * first, and prints what would change (e.g. ignore → unsubscribe) with example lines, so a rule is
 * tried before it goes live (docs/classification.md "Trying a rule"). Nothing is written.
 * Decisions are compared per record (unsubscribe / soft bounce / ignore); soft counting across
 * records is the same for both and is not replayed.
 */
import { createReadStream, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createAccountingReader } from '#core/accounting/accounting-reader.ts';
import type { Classifier } from '#core/classify/classify.ts';
import type { PolicyConfig } from '#core/config-schema.ts';
import { decideBounce } from '#core/decide/policy.ts';
import { shorten } from '#core/email-address.ts';
import type { MailEvent, ParseOutcome } from '#core/mail-event.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import { classifierWith, loadCandidateRules } from './rule-catalogue.ts';

const USAGE =
  'usage: pmta-bounce backtest FILE... --rules candidate.yaml [--examples N] [--config F] [--json]';

const OPTIONS = {
  rules: { type: 'string' },
  examples: { type: 'string', default: '3' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

interface Example {
  file: string;
  line: number;
  recipient: string | undefined;
  reply: string;
  before: string;
  after: string;
}

interface Change {
  from: string;
  to: string;
  count: number;
  examples: Example[];
}

interface BacktestSummary {
  records: number;
  bounces: number;
  changed: number;
  changes: Change[];
}

interface Side {
  classify: Classifier;
  policy: PolicyConfig;
}

function judge(side: Side, event: MailEvent): { intent: string; rule: string } {
  const verdict = side.classify(event);
  return { intent: decideBounce(verdict, side.policy).intent, rule: verdict.ruleId };
}

/** Compares one record under both rule sets and counts the change, keeping a few examples. */
function compare(
  summary: BacktestSummary,
  changes: Map<string, Change>,
  event: MailEvent,
  sides: { baseline: Side; candidate: Side; examples: number; file: string },
): void {
  summary.bounces++;
  const before = judge(sides.baseline, event);
  const after = judge(sides.candidate, event);
  if (before.intent === after.intent && before.rule === after.rule) return;
  summary.changed++;
  const key = `${before.intent} → ${after.intent}`;
  const change = changes.get(key) ?? { from: before.intent, to: after.intent, count: 0, examples: [] };
  changes.set(key, change);
  change.count++;
  if (change.examples.length < sides.examples) {
    change.examples.push({
      file: sides.file,
      line: event.line,
      recipient: event.recipient,
      reply: shorten(event.dsnDiag ?? '', 160),
      before: before.rule,
      after: after.rule,
    });
  }
}

async function readFile(
  file: string,
  onOutcome: (o: ParseOutcome) => void,
  fields?: string[],
): Promise<void> {
  const reader = createAccountingReader({ fields }, onOutcome);
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }))
    reader.write(chunk as Buffer);
  reader.end();
}

function render(summary: BacktestSummary): string {
  const out = [
    `${summary.records} records, ${summary.bounces} bounces, ${summary.changed} decided differently`,
  ];
  for (const c of summary.changes) {
    out.push(`  ${c.from} → ${c.to}: ${c.count}`);
    for (const e of c.examples) {
      out.push(
        `    ${e.file}:${e.line} ${e.recipient ?? '-'} [${e.before} → ${e.after}] ${JSON.stringify(e.reply)}`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

async function backtestCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  const examples = Number(values.examples);
  if (
    values.help ||
    positionals.length === 0 ||
    !values.rules ||
    !Number.isInteger(examples) ||
    examples < 0
  ) {
    (values.help ? io.stdout : io.stderr).write(`${USAGE}\n`);
    return values.help ? ExitCode.ok : ExitCode.usage;
  }
  for (const file of positionals) {
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) {
      io.stderr.write(`pmta-bounce backtest: cannot read ${file}\n`);
      return ExitCode.usage;
    }
  }
  const { config } = loadConfigFile(values.config, io.env);
  const candidateRules = loadCandidateRules(values.rules, io.env);
  const baseline = { classify: classifierWith(config.classification.rules), policy: config.policy };
  const candidate = {
    classify: classifierWith([...candidateRules, ...config.classification.rules]),
    policy: config.policy,
  };
  const summary: BacktestSummary = { records: 0, bounces: 0, changed: 0, changes: [] };
  const changes = new Map<string, Change>();
  for (const file of positionals) {
    await readFile(
      file,
      (o) => {
        summary.records++;
        if (o.ok && o.event.kind === 'bounce')
          compare(summary, changes, o.event, { baseline, candidate, examples, file });
      },
      config.accounting.fields,
    );
  }
  summary.changes = [...changes.values()].sort((a, b) => b.count - a.count);
  io.stdout.write(values.json ? `${JSON.stringify(summary)}\n` : render(summary));
  return ExitCode.ok;
}

export { backtestCommand };
