/**
 * The deliverability counts port (docs/guardrails.md): hourly aggregates added per batch, read back
 * by time range for the report and the guardrails. SQLite locally, DynamoDB in the cloud.
 */
import type { PendingSummary } from './deliverability-report.ts';
import type { TrafficRow } from './traffic.ts';

interface TrafficStore {
  /**
   * Adds these aggregates to the stored totals. `batchId` names the input they came from (an SQS
   * message's `<host>/<stream>/<seq>`): adding the same batch again changes nothing, so a
   * redelivered message is counted once.
   */
  addTraffic(rows: readonly TrafficRow[], batchId?: string): Promise<void>;
  /** Stored aggregates whose hour lies in [since, until) (ms; either end open when undefined). */
  trafficRows(since?: number, until?: number): Promise<TrafficRow[]>;
  /** Provider calls that took someone off, per provider, in the same range (from the audit trail). */
  unsubscribesByProvider(since?: number, until?: number): Promise<Record<string, number>>;
  /** Actions still waiting for a provider, and how many were requested more than 24 h before `now`. */
  pendingSummary(now: number): Promise<PendingSummary>;
}

export type { TrafficStore };
