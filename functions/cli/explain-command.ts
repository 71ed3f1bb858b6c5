/**
 * `pmta-bounce explain "<reply text>" [--status 5.1.1] [--category C] [--recipient A] [--json]`:
 * the verdict for one remote reply under the configured rules and policy, and the rule that
 * decided it (docs/classification.md).
 */
import { parseArgs } from 'node:util';
import { MAX_REPLY_CHARS } from '#core/classify/classify.ts';
import { effectiveStatus, formatStatus } from '#core/classify/enhanced-status.ts';
import { decideBounce } from '#core/decide/policy.ts';
import { type CliIo, ExitCode } from './cli-io.ts';
import { loadConfigFile } from './config-file.ts';
import { catalogue, classifierWith } from './rule-catalogue.ts';

const USAGE =
  'usage: pmta-bounce explain "<reply text>" [--status 5.1.1] [--category C] [--recipient A] [--mta HOST] [--config F] [--json]';

const OPTIONS = {
  status: { type: 'string' },
  category: { type: 'string' },
  recipient: { type: 'string' },
  mta: { type: 'string' },
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', default: false },
} as const;

const VERDICT = {
  unsubscribe: 'unsubscribe',
  'soft-bounce': 'soft bounce (counted)',
  ignore: 'ignore',
} as const;

async function explainCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: OPTIONS });
  if (values.help || positionals.length !== 1) {
    (values.help ? io.stdout : io.stderr).write(`${USAGE}\n`);
    return values.help ? ExitCode.ok : ExitCode.usage;
  }
  const { config } = loadConfigFile(values.config, io.env);
  const reply = positionals[0]!;
  const input = {
    bounceCat: values.category?.trim().toLowerCase(),
    dsnStatus: values.status,
    dsnDiag: reply,
    recipient: values.recipient,
    dsnMta: values.mta,
  };
  const verdict = classifierWith(config.classification.rules)(input);
  const decision = decideBounce(verdict, config.policy);
  const rule = catalogue(config.classification.rules).get(verdict.ruleId);
  const status = formatStatus(effectiveStatus(values.status, reply, Math.min(reply.length, MAX_REPLY_CHARS)));
  const result = {
    verdict: decision.intent,
    category: verdict.category,
    fault: verdict.fault,
    rule: verdict.ruleId,
    ruleOrigin: rule?.origin,
    stage: rule?.stage,
    why: rule?.note,
    status: status || undefined,
    reason: decision.reason,
  };
  if (values.json) {
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return ExitCode.ok;
  }
  const lines = [
    `verdict:  ${VERDICT[decision.intent]}`,
    `category: ${verdict.category}`,
    `fault:    ${verdict.fault}`,
    `rule:     ${verdict.ruleId} (${rule?.origin ?? 'unknown'}, ${rule?.stage ?? '?'})`,
    ...(rule?.note ? [`why:      ${rule.note}`] : []),
    ...(status ? [`status:   ${status}`] : []),
    `reason:   ${decision.reason}`,
  ];
  io.stdout.write(`${lines.join('\n')}\n`);
  return ExitCode.ok;
}

export { explainCommand };
