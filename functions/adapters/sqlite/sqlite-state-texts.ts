/**
 * Texts stored once in the state file (`texts`) and referenced by id from audit entries and
 * suppressions: a decision's reason repeats across thousands of records, so each row carries an
 * integer instead of ~100 bytes (docs/benchmarks.md). Ids are cached in memory; texts are never
 * changed or deleted, so a cached id stays right for as long as the transaction that made it is
 * not rolled back — `forget` drops the cache when one is.
 */
import type Database from 'better-sqlite3';

/** Distinct texts kept in the cache; past it the cache starts again (the table keeps all). */
const CACHE_LIMIT = 10_000;

class StateTexts {
  readonly #ids = new Map<string, number>();
  readonly #insert: Database.Statement<[string]>;
  readonly #find: Database.Statement<[string], { id: number }>;

  constructor(db: Database.Database) {
    this.#insert = db.prepare('INSERT OR IGNORE INTO texts (text) VALUES (?)');
    this.#find = db.prepare('SELECT id FROM texts WHERE text = ?');
  }

  /** The id of `text`, added if new (inside the caller's transaction). */
  id(text: string): number {
    const cached = this.#ids.get(text);
    if (cached !== undefined) return cached;
    const inserted = this.#insert.run(text);
    const id = inserted.changes > 0 ? Number(inserted.lastInsertRowid) : this.#find.get(text)!.id;
    if (this.#ids.size >= CACHE_LIMIT) this.#ids.clear();
    this.#ids.set(text, id);
    return id;
  }

  /** After a rollback: ids cached since may name rows that no longer exist. */
  forget(): void {
    this.#ids.clear();
  }
}

export { StateTexts };
