/**
 * The tables of the local state file and how a file written by an earlier version is brought up to
 * date on open. Since issue 14 the per-record tables are lean (docs/benchmarks.md): every text an
 * audit entry repeats (type, action, reason, rule) is stored once in `texts` and referenced by id,
 * record keys are kept as a 53-bit hash (they only serve correlation and dedupe), and soft bounces
 * are one B-tree keyed by (address, record-key hash) instead of a table and two indexes keyed by
 * the key's text (~100 bytes a row, and the table is written in random address order, so its size
 * decides how much page cache a run needs). A file with an earlier layout (the `audit` table, a
 * `soft_bounces` keyed by `record_key` text) is migrated in one transaction the first time a
 * writer opens it; read-only readers (a dry run's base, `report`) read either layout.
 */
import type Database from 'better-sqlite3';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS suppressions (
  subject TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  category TEXT,
  reason TEXT NOT NULL,
  record_key TEXT NOT NULL,
  providers_done TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS texts (
  id INTEGER PRIMARY KEY,
  text TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS soft_bounces (
  address TEXT NOT NULL,
  record_hash INTEGER NOT NULL,
  at INTEGER NOT NULL,
  PRIMARY KEY (address, record_hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS soft_resets (
  address TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_trail (
  seq INTEGER PRIMARY KEY,
  subject_hash INTEGER NOT NULL,
  subject TEXT NOT NULL,
  at INTEGER NOT NULL,
  type INTEGER NOT NULL,
  action INTEGER NOT NULL,
  reason INTEGER NOT NULL,
  rule INTEGER,
  line INTEGER,
  record_key INTEGER,
  provider TEXT,
  outcome TEXT,
  lists TEXT,
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS audit_trail_subject ON audit_trail (subject_hash);
CREATE TABLE IF NOT EXISTS audit_batches (batch INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS rate_counters (
  key TEXT NOT NULL,
  window_start INTEGER NOT NULL,
  count INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  PRIMARY KEY (key, window_start)
);
CREATE TABLE IF NOT EXISTS rejects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  source TEXT NOT NULL,
  line INTEGER NOT NULL,
  reason TEXT NOT NULL,
  raw TEXT NOT NULL
);
`;

/**
 * Columns added after the first release: a state file written by an older version gets them on
 * open. expires_at (ms) marks provisional rows (SuppressionRequest.expiresAt), swept on open.
 * The `audit` ones only matter to a file still holding the pre-issue-14 table (migrated next).
 */
const ADDED_COLUMNS: ReadonlyArray<readonly [table: string, column: string]> = [
  ['suppressions', 'expires_at INTEGER'],
  ['audit', 'expires_at INTEGER'],
  // The classification rule behind a bounce decision (docs/classification.md).
  ['audit', 'rule TEXT'],
  // Provenance of a suppression (SuppressionRequest.rule/recordType/jobId) for export and undo.
  ['suppressions', 'rule TEXT'],
  ['suppressions', 'record_type TEXT'],
  ['suppressions', 'job_id TEXT'],
  // Issue 14: the reason by reference (texts.id); `reason` is then ''. Older rows keep their text.
  ['suppressions', 'reason_id INTEGER'],
];

const EXPIRY_INDEXES = `
CREATE INDEX IF NOT EXISTS suppressions_expiry ON suppressions (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_trail_expiry ON audit_trail (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS rate_counters_expiry ON rate_counters (expires_at);
`;

/** A suppression's reason whichever way it was stored (by reference since issue 14, else text). */
const SUPPRESSION_REASON = 'COALESCE((SELECT text FROM texts WHERE id = reason_id), reason)';

const TWO_POW_32 = 4294967296;

/**
 * A 53-bit hash of a record key (FNV-1a over its UTF-16 code units, 64-bit, top bits dropped so
 * the value is an exact JavaScript number and a SQLite integer). Stored, so it must never change.
 * A collision would only merge two soft bounces of one address into one.
 */
function recordKeyHash(key: string): number {
  let lo = 0x84222325;
  let hi = 0xcbf29ce4;
  for (let i = 0; i < key.length; i++) {
    lo ^= key.charCodeAt(i);
    // (hi:lo) * 0x100000001b3 mod 2^64: lo times 0x1b3 in 16-bit halves (every product exact, no
    // division), the high word gets the carry, its own product and lo shifted by 40 - 32 bits.
    const low16 = (lo & 0xffff) * 0x1b3;
    const high16 = (lo >>> 16) * 0x1b3 + (low16 >>> 16);
    hi = (Math.imul(hi, 0x1b3) + (lo << 8) + (high16 >>> 16)) >>> 0;
    lo = ((high16 << 16) | (low16 & 0xffff)) >>> 0;
  }
  return (hi & 0x1fffff) * TWO_POW_32 + lo;
}

/**
 * A 32-bit hash of a subject (FNV-1a over its UTF-16 code units): the audit trail's index holds
 * this integer instead of the address (a third of the size, integer compares: docs/benchmarks.md);
 * readers match the subject itself too, so a collision costs one extra row read. Stored.
 */
function subjectHash(subject: string): number {
  return fnv1a32(subject);
}

/** 32-bit FNV-1a over a string's UTF-16 code units. */
function fnv1a32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** How a hashed record key is shown (`status --json`): `h:` and 14 hex digits. */
function recordKeyLabel(hash: number | string): string {
  return `h:${Number(hash).toString(16).padStart(14, '0')}`;
}

/** Whether table `name` exists (in the attached database `schema`, a name of ours, when given). */
function hasTable(db: Database.Database | undefined, name: string, schema = 'main'): boolean {
  return Boolean(
    db?.prepare(`SELECT 1 FROM ${schema}.sqlite_master WHERE type = 'table' AND name = ?`).get(name),
  );
}

function hasColumn(db: Database.Database, table: string, column: string): boolean {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
  return columns.some((c) => c.name === column);
}

function addMissingColumns(db: Database.Database): void {
  for (const [table, column] of ADDED_COLUMNS) {
    const name = column.split(' ')[0]!;
    if (hasTable(db, table) && !hasColumn(db, table, name))
      db.exec(`ALTER TABLE ${table} ADD COLUMN ${column}`);
  }
}

const INTERN_AUDIT_TEXTS = `INSERT OR IGNORE INTO texts (text)
  SELECT type FROM audit UNION SELECT action FROM audit UNION SELECT reason FROM audit
  UNION SELECT rule FROM audit WHERE rule IS NOT NULL`;
const COPY_AUDIT = `INSERT INTO audit_trail
  (seq, subject_hash, subject, at, type, action, reason, rule, line, record_key, provider, outcome, lists, expires_at)
  SELECT a.id, pmta_subject_hash(a.subject), a.subject, a.at, (SELECT id FROM texts WHERE text = a.type),
    (SELECT id FROM texts WHERE text = a.action), (SELECT id FROM texts WHERE text = a.reason),
    (SELECT id FROM texts WHERE text = a.rule), a.line, pmta_record_key_hash(a.record_key),
    a.provider, a.outcome, a.lists, a.expires_at
  FROM audit a ORDER BY a.id`;

/**
 * Both earlier soft_bounces (a rowid table with an (address, at) index before issue 14, then one
 * B-tree keyed by the text) to the hashed one; the old index goes with the old table. OR IGNORE: a
 * hash collision between two keys of one address keeps the first row, as a later insert would.
 */
const HASH_SOFT_BOUNCES = `ALTER TABLE soft_bounces RENAME TO soft_bounces_text;
  CREATE TABLE soft_bounces (address TEXT NOT NULL, record_hash INTEGER NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (address, record_hash)) WITHOUT ROWID;
  INSERT OR IGNORE INTO soft_bounces (address, record_hash, at)
    SELECT address, pmta_record_key_hash(record_key), at FROM soft_bounces_text;
  DROP TABLE soft_bounces_text;`;

/** Whether soft_bounces is keyed by the record key's hash (false: by its text, or no table). */
function hashedSoftBounces(db: Database.Database): boolean {
  return hasTable(db, 'soft_bounces') && hasColumn(db, 'soft_bounces', 'record_hash');
}

/** The hashes as SQL functions, for the migrations (the same values the writers store). */
function registerHashFunctions(db: Database.Database): void {
  db.function('pmta_record_key_hash', { deterministic: true }, (key: unknown) =>
    key === null ? null : recordKeyHash(String(key)),
  );
  db.function('pmta_subject_hash', { deterministic: true }, (subject: unknown) =>
    subjectHash(String(subject)),
  );
}

/** A file written before issue 14: its audit moves to the lean table (same order, same texts). */
function migrateAudit(db: Database.Database): void {
  db.exec(INTERN_AUDIT_TEXTS);
  db.exec(COPY_AUDIT);
  db.exec('DROP TABLE audit');
}

/**
 * Creates what is missing and migrates an earlier layout (writers only), in one transaction: a
 * crash leaves the file as it was. A text-keyed soft_bounces moves first (the schema would keep it).
 */
function prepareStateSchema(db: Database.Database): void {
  registerHashFunctions(db);
  db.transaction(() => {
    if (hasTable(db, 'soft_bounces') && !hashedSoftBounces(db)) db.exec(HASH_SOFT_BOUNCES);
    db.exec(SCHEMA);
    addMissingColumns(db);
    if (hasTable(db, 'audit')) migrateAudit(db);
    db.exec(EXPIRY_INDEXES);
  })();
}

export {
  fnv1a32,
  hasColumn,
  hashedSoftBounces,
  hasTable,
  prepareStateSchema,
  recordKeyHash,
  recordKeyLabel,
  SUPPRESSION_REASON,
  subjectHash,
};
