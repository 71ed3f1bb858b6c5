/**
 * TrafficStore on SQLite: the deliverability aggregates live in the same state file as the
 * suppressions (table `traffic`, one row per hour × sending domain × mailbox provider × VirtualMTA
 * × job). `process` passes the suppression store's connection, so a batch's counts commit in the
 * same transaction as its decisions (docs/benchmarks.md: a second connection cost a page cache, a
 * sync per flush and a tally held for a whole commit); `report` opens its own, read-only.
 */

import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { StoreError } from '#core/errors.ts';
import type { PendingSummary } from '#core/guardrails/deliverability-report.ts';
import { DAY_MS } from '#core/guardrails/guardrails.ts';
import { NONE, type TrafficRow } from '#core/guardrails/traffic.ts';
import type { TrafficStore } from '#core/ports.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS traffic (
  hour INTEGER NOT NULL,
  sending_domain TEXT NOT NULL,
  mailbox_provider TEXT NOT NULL,
  vmta TEXT NOT NULL,
  job TEXT NOT NULL,
  deliveries INTEGER NOT NULL DEFAULT 0,
  hard INTEGER NOT NULL DEFAULT 0,
  soft INTEGER NOT NULL DEFAULT 0,
  complaints INTEGER NOT NULL DEFAULT 0,
  blocks TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (hour, sending_domain, mailbox_provider, vmta, job)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS guardrail_notices (
  id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** A stored row, its columns named as TrafficRow's fields; blocks still JSON. */
type StoredTraffic = Omit<TrafficRow, 'blocks'> & { blocks: string | Record<string, number> };

const SELECT_TRAFFIC = `SELECT hour, sending_domain AS sendingDomain, mailbox_provider AS mailboxProvider, vmta, job,
  deliveries, hard AS hardBounces, soft AS softBounces, complaints, blocks
  FROM traffic WHERE hour >= ? AND hour < ? ORDER BY hour`;

/** The stored row made a TrafficRow in place (one object per row: the guardrails read every row of a day). */
function toRow(r: StoredTraffic): TrafficRow {
  // Most rows have no blocks: '{}' needs no parse.
  r.blocks = r.blocks === '{}' ? {} : (JSON.parse(r.blocks as string) as Record<string, number>);
  return r as TrafficRow;
}

/** Adds blocks per category into `total`. */
function addBlocks(total: Record<string, number>, added: Record<string, number>): Record<string, number> {
  for (const [c, n] of Object.entries(added)) total[c] = (total[c] ?? 0) + n;
  return total;
}

function mergeBlocks(stored: string, added: Record<string, number>): string {
  return JSON.stringify(addBlocks(JSON.parse(stored) as Record<string, number>, added));
}

class SqliteTrafficStore implements TrafficStore {
  private readonly db: Database.Database;
  /** A connection passed in belongs to its owner: `close` leaves it open. */
  private readonly owned: boolean;

  /** `state`: a state file's path, or an open connection to share (writes join its transaction). */
  constructor(state: string | Database.Database, options: { readonly?: boolean } = {}) {
    const path = typeof state === 'string' ? state : state.name;
    try {
      this.owned = typeof state === 'string';
      this.db = typeof state === 'string' ? SqliteTrafficStore.open(state, options) : state;
      if (!options.readonly) this.db.exec(SCHEMA);
    } catch (error) {
      throw new StoreError(`cannot open state ${path}: ${(error as Error).message}`, { cause: error });
    }
  }

  private static open(path: string, options: { readonly?: boolean }): Database.Database {
    if (options.readonly) return new Database(path, { readonly: true, fileMustExist: true });
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    return db;
  }

  /**
   * One upsert per row (issue 14: was a read, then an insert or an update); the blocks of a row
   * that exists are merged by pmta_merge_blocks, only when the new row has any.
   */
  async addTraffic(rows: readonly TrafficRow[]): Promise<void> {
    if (rows.length === 0) return;
    const upsert = this.upsert();
    this.db.transaction(() => {
      for (const r of rows) {
        const blocks = JSON.stringify(r.blocks);
        upsert.run(
          r.hour,
          r.sendingDomain,
          r.mailboxProvider,
          r.vmta,
          r.job,
          r.deliveries,
          r.hardBounces,
          r.softBounces,
          r.complaints,
          blocks,
        );
      }
    })();
  }

  #upsert: Database.Statement | undefined;

  private upsert(): Database.Statement {
    if (this.#upsert) return this.#upsert;
    this.db.function('pmta_merge_blocks', { deterministic: true }, (stored: unknown, added: unknown) =>
      mergeBlocks(String(stored), JSON.parse(String(added)) as Record<string, number>),
    );
    this.#upsert = this.db.prepare(
      `INSERT INTO traffic (hour, sending_domain, mailbox_provider, vmta, job, deliveries, hard, soft, complaints, blocks)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (hour, sending_domain, mailbox_provider, vmta, job) DO UPDATE SET
         deliveries = deliveries + excluded.deliveries, hard = hard + excluded.hard, soft = soft + excluded.soft,
         complaints = complaints + excluded.complaints,
         blocks = CASE WHEN excluded.blocks = '{}' THEN blocks ELSE pmta_merge_blocks(blocks, excluded.blocks) END`,
    );
    return this.#upsert;
  }

  async trafficRows(since?: number, until?: number): Promise<TrafficRow[]> {
    if (!this.hasTable('traffic')) return [];
    const rows = this.db
      .prepare(SELECT_TRAFFIC)
      .all(since ?? 0, until ?? Number.MAX_SAFE_INTEGER) as StoredTraffic[];
    return rows.map(toRow);
  }

  /** Whether any traffic is stored for [since, until). */
  hasTraffic(since: number, until: number): boolean {
    if (!this.hasTable('traffic')) return false;
    return (
      this.db.prepare('SELECT 1 FROM traffic WHERE hour >= ? AND hour < ? LIMIT 1').get(since, until) !==
      undefined
    );
  }

  /**
   * The rows of [since, until) summed over jobs, which no guardrail groups by (core/guardrails):
   * what `process` judges at its end. Summed in SQL, so a file of many campaigns is not read back
   * row by row (one row per 3-4 records on the PHP bench's 1,000-job file: a quarter of a
   * second and a 100 MB spike at 1M records, docs/benchmarks.md).
   */
  async guardrailRows(since: number, until: number): Promise<TrafficRow[]> {
    if (!this.hasTable('traffic')) return [];
    this.sumBlocksFunction();
    const rows = this.db
      .prepare(
        `SELECT hour, sending_domain AS sendingDomain, mailbox_provider AS mailboxProvider, vmta, ? AS job,
           SUM(deliveries) AS deliveries, SUM(hard) AS hardBounces, SUM(soft) AS softBounces,
           SUM(complaints) AS complaints, pmta_sum_blocks(blocks) AS blocks
         FROM traffic WHERE hour >= ? AND hour < ?
         GROUP BY hour, sending_domain, mailbox_provider, vmta ORDER BY hour`,
      )
      .all(NONE, since, until) as StoredTraffic[];
    return rows.map(toRow);
  }

  #sumBlocks = false;

  private sumBlocksFunction(): void {
    if (this.#sumBlocks) return;
    this.db.aggregate('pmta_sum_blocks', {
      start: () => ({}) as Record<string, number>,
      step: (total: Record<string, number>, blocks: unknown) => {
        if (blocks === '{}' || typeof blocks !== 'string') return total;
        return addBlocks(total, JSON.parse(blocks) as Record<string, number>);
      },
      result: (total: Record<string, number>) => JSON.stringify(total),
    });
    this.#sumBlocks = true;
  }

  async unsubscribesByProvider(since?: number, until?: number): Promise<Record<string, number>> {
    // `report` opens the state read-only: a file from before issue 14 still has the `audit` table.
    const where = "provider IS NOT NULL AND outcome = 'done' AND at >= ? AND at < ?";
    const sql = this.hasTable('audit_trail')
      ? `SELECT provider, COUNT(*) AS n FROM audit_trail WHERE ${where}
         AND type = (SELECT id FROM texts WHERE text = 'provider') GROUP BY provider ORDER BY provider`
      : this.hasTable('audit')
        ? `SELECT provider, COUNT(*) AS n FROM audit WHERE ${where} AND type = 'provider'
           GROUP BY provider ORDER BY provider`
        : undefined;
    if (!sql) return {};
    const rows = this.db.prepare(sql).all(since ?? 0, until ?? Number.MAX_SAFE_INTEGER) as Array<{
      provider: string;
      n: number;
    }>;
    return Object.fromEntries(rows.map((r) => [r.provider, r.n]));
  }

  async pendingSummary(now: number): Promise<PendingSummary> {
    if (!this.hasTable('outbox')) return { actions: 0, olderThan24h: 0 };
    const rows = this.db.prepare('SELECT action FROM outbox').all() as Array<{ action: string }>;
    let olderThan24h = 0;
    for (const { action } of rows) {
      const parsed = JSON.parse(action) as { requestedAt?: number; occurredAt?: number };
      const at = parsed.requestedAt ?? parsed.occurredAt;
      if (at !== undefined && now - at > DAY_MS) olderThan24h++;
    }
    return { actions: rows.length, olderThan24h };
  }

  /** Guardrail notices already delivered (docs/guardrails.md): each trip is announced once. */
  noticeSent(id: string): boolean {
    return this.db.prepare('SELECT 1 FROM guardrail_notices WHERE id = ?').get(id) !== undefined;
  }

  markNoticeSent(id: string, at: number): void {
    this.db.prepare('INSERT OR IGNORE INTO guardrail_notices (id, at) VALUES (?, ?)').run(id, at);
  }

  async close(): Promise<void> {
    if (this.owned) this.db.close();
  }

  private hasTable(name: string): boolean {
    return (
      this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined
    );
  }
}

export { SqliteTrafficStore };
