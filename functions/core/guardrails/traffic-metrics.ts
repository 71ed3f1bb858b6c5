/**
 * The deliverability counts as CloudWatch metric values (docs/guardrails.md "In AWS"), with bounded
 * dimensions: a sending domain or VirtualMTA keeps its own value only when the operator listed it
 * (`guardrails.sendingDomains`, `guardrails.vmtas`); the rest is `other`. Mailbox providers are a
 * short table already. Pure: the ingest function maps these onto its metric sink.
 */
import type { GuardrailsConfig } from '../config-schema.ts';
import { attempts, blockTotal, type TrafficRow } from './traffic.ts';

interface TrafficMetric {
  metric: 'deliveries' | 'complaints' | 'attempts' | 'blocks';
  dimensions: { sendingDomain: string } | { mailboxProvider: string; vmta: string };
  value: number;
}

const OTHER = 'other';

function trafficMetrics(
  rows: readonly TrafficRow[],
  config: Pick<GuardrailsConfig, 'sendingDomains' | 'vmtas'>,
): TrafficMetric[] {
  const domains = new Set(config.sendingDomains.map((d) => d.toLowerCase()));
  const vmtas = new Set(config.vmtas.map((v) => v.toLowerCase()));
  const sums = new Map<string, TrafficMetric>();
  const add = (metric: TrafficMetric['metric'], dimensions: TrafficMetric['dimensions'], value: number) => {
    if (value === 0) return;
    const key = `${metric}\u0000${Object.values(dimensions).join('\u0000')}`;
    const found = sums.get(key);
    if (found) found.value += value;
    else sums.set(key, { metric, dimensions, value });
  };
  for (const row of rows) {
    const sendingDomain = domains.has(row.sendingDomain) ? row.sendingDomain : OTHER;
    add('deliveries', { sendingDomain }, row.deliveries);
    add('complaints', { sendingDomain }, row.complaints);
    const where = { mailboxProvider: row.mailboxProvider, vmta: vmtas.has(row.vmta) ? row.vmta : OTHER };
    add('attempts', where, attempts(row));
    add('blocks', where, blockTotal(row));
  }
  return [...sums.values()];
}

export type { TrafficMetric };
export { trafficMetrics };
