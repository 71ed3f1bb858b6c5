/**
 * The ActionOutbox on the local SQLite state (core/act/action-outbox.ts): table `outbox` (one action
 * per subject) and `outbox_parked` (providers that failed permanently, with their last error).
 * Shares the store's connection, so writes land in the same file and journal.
 */
import type Database from 'better-sqlite3';
import type { Action } from '#core/act/action.ts';
import type { ActionOutbox, OutboxSelection, OutboxSummary, ParkedProvider } from '#core/ports.ts';

const OUTBOX_SCHEMA = `
CREATE TABLE IF NOT EXISTS outbox (
  subject TEXT PRIMARY KEY,
  action TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox_parked (
  subject TEXT NOT NULL,
  provider TEXT NOT NULL,
  at INTEGER NOT NULL,
  error TEXT NOT NULL,
  PRIMARY KEY (subject, provider)
);
`;

class SqliteActionOutbox implements ActionOutbox {
  readonly #db: Database.Database;
  readonly #providersDone: (subject: string) => readonly string[];
  readonly #insert: Database.Statement;
  readonly #park: Database.Statement;
  readonly #parkedOf: Database.Statement<[string], ParkedProvider>;

  constructor(db: Database.Database, providersDone: (subject: string) => readonly string[]) {
    this.#db = db;
    this.#providersDone = providersDone;
    db.exec(OUTBOX_SCHEMA);
    this.#insert = db.prepare('INSERT OR REPLACE INTO outbox (subject, action) VALUES (?, ?)');
    this.#park = db.prepare(
      'INSERT OR REPLACE INTO outbox_parked (subject, provider, at, error) VALUES (@subject, @provider, @at, @error)',
    );
    this.#parkedOf = db.prepare(
      'SELECT subject, provider, at, error FROM outbox_parked WHERE subject = ? ORDER BY provider',
    );
  }

  enqueue(actions: readonly Action[]): void {
    this.#db.transaction(() => {
      for (const a of actions) this.#insert.run(a.subject, JSON.stringify(a));
    })();
  }

  complete(subject: string): void {
    this.#db.transaction(() => {
      this.#db.prepare('DELETE FROM outbox WHERE subject = ?').run(subject);
      this.#db.prepare('DELETE FROM outbox_parked WHERE subject = ?').run(subject);
    })();
  }

  park(entry: ParkedProvider): void {
    this.#park.run({ ...entry, error: entry.error.slice(0, 500) });
  }

  parkedFor(subject: string): ParkedProvider[] {
    return this.#parkedOf.all(subject);
  }

  pending(selection: OutboxSelection = {}): Action[] {
    const out: Action[] = [];
    for (const { action, owed, parked } of this.#owed()) {
      let providers = selection.parked ? owed : owed.filter((p) => !parked.has(p));
      if (selection.provider !== undefined) providers = providers.filter((p) => p === selection.provider);
      if (providers.length > 0) out.push({ ...action, providers });
    }
    return out;
  }

  summary(): OutboxSummary {
    const parked = new Map<string, OutboxSummary['parked'][number]>();
    let pending = 0;
    let parkedActions = 0;
    for (const entry of this.#owed()) {
      pending += 1;
      if (entry.parked.size > 0) parkedActions += 1;
      for (const p of entry.parked.values()) {
        const seen = parked.get(p.provider);
        if (!seen)
          parked.set(p.provider, { provider: p.provider, actions: 1, lastError: p.error, lastAt: p.at });
        else {
          seen.actions += 1;
          if (p.at >= seen.lastAt) Object.assign(seen, { lastError: p.error, lastAt: p.at });
        }
      }
    }
    return { pending, parkedActions, parked: [...parked.values()] };
  }

  /** Every outbox row with the providers it still owes; rows owing nothing are removed. */
  *#owed(): Generator<{ action: Action; owed: string[]; parked: Map<string, ParkedProvider> }> {
    const rows = this.#db.prepare('SELECT subject, action FROM outbox ORDER BY rowid').all() as Array<{
      subject: string;
      action: string;
    }>;
    for (const row of rows) {
      const action = JSON.parse(row.action) as Action;
      const done = new Set(this.#providersDone(row.subject));
      const owed = action.providers.filter((p) => !done.has(p));
      if (owed.length === 0) {
        this.complete(row.subject);
        continue;
      }
      const parked = new Map(
        this.parkedFor(row.subject)
          .filter((p) => owed.includes(p.provider))
          .map((p) => [p.provider, p]),
      );
      yield { action, owed, parked };
    }
  }
}

export { SqliteActionOutbox };
