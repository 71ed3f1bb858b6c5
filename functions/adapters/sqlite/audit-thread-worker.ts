/**
 * The audit thread's body (started by sqlite-audit-thread.ts; built as its own entry in dist/cli):
 * it owns a connection to the state's decision file and appends the decision entries the main
 * thread sends, while the main thread goes on deciding the next records. A `sync` request makes
 * everything so far durable and answers through the shared array. The rows only count once the
 * state file names their batch (docs/interfaces.md §4, docs/benchmarks.md "The audit thread"), so
 * this thread never needs to undo anything.
 */
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import {
  AUDIT_THREAD_FIELDS,
  type AuditThreadMessage,
  DECISION_FILE_SCHEMA,
} from './sqlite-decision-file.ts';
import { recordKeyHash, subjectHash } from './sqlite-state-schema.ts';

interface WorkerData {
  path: string;
  /** [0]: the last ticket answered, [1]: 0 ok, 1 failed (the reason on `errors`). */
  answers: SharedArrayBuffer;
  errors: MessagePort;
}

const { path, answers, errors } = workerData as WorkerData;
const answered = new Int32Array(answers);
let failure: string | undefined;

type Statements = { db: Database.Database; insert: Database.Statement; synced: Database.Statement };
let open: Statements | undefined;
try {
  const db = openDecisionFile(path);
  open = {
    db,
    insert: db.prepare(
      `INSERT INTO decisions (batch, after_seq, subject_hash, subject, at, type, action, reason, rule, line, record_key)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    synced: db.prepare('INSERT OR REPLACE INTO synced_batches (batch, at) VALUES (?, ?)'),
  };
} catch (error) {
  failure = (error as Error).message;
}

function openDecisionFile(file: string): Database.Database {
  const opened = new Database(file, { timeout: 60_000 });
  opened.pragma('journal_mode = WAL');
  // Unsynced commits; a sync request commits with FULL, which makes the whole WAL durable.
  opened.pragma('synchronous = NORMAL');
  // Rows are appended in rowid order; the one random index is the subject hash's. 2 MiB, not 4: the
  // peak RSS goal (1 MiB cost ~0.2 CPU s more on the 300k bench; docs/benchmarks.md).
  opened.pragma('cache_size = -2048');
  opened.exec(DECISION_FILE_SCHEMA);
  return opened;
}

/** NaN stands for an absent (NULL) column in the transferred numbers. */
const orNull = (n: number): number | null => (Number.isNaN(n) ? null : n);

/**
 * Rows go into one open transaction until a sync (or ROWS_PER_COMMIT rows): the decision index is
 * written at random places, so a commit per message would write most of its pages again each time.
 */
const ROWS_PER_COMMIT = 25_000;
let uncommitted = 0;

function appendRows({ db, insert }: Statements, m: Extract<AuditThreadMessage, { kind: 'rows' }>): void {
  const { nums, text, lengths, batch, afterSeq } = m;
  const rows = lengths.length / 2;
  if (!db.inTransaction) db.exec('BEGIN');
  let from = 0;
  for (let i = 0; i < rows; i++) {
    const subjectEnd = from + lengths[i * 2]!;
    const subject = text.slice(from, subjectEnd);
    const keyLength = lengths[i * 2 + 1]!;
    const keyHash = keyLength < 0 ? null : recordKeyHash(text.slice(subjectEnd, subjectEnd + keyLength));
    from = subjectEnd + Math.max(keyLength, 0);
    const o = i * AUDIT_THREAD_FIELDS;
    // at, type, action, reason, rule, line (AUDIT_THREAD_FIELDS), read in place: no array per row.
    insert.run(
      batch,
      afterSeq,
      subjectHash(subject),
      subject,
      nums[o],
      nums[o + 1],
      nums[o + 2],
      nums[o + 3],
      orNull(nums[o + 4]!),
      orNull(nums[o + 5]!),
      keyHash,
    );
  }
  uncommitted += rows;
  if (uncommitted >= ROWS_PER_COMMIT) commit(db);
}

function commit(db: Database.Database): void {
  if (db.inTransaction) db.exec('COMMIT');
  uncommitted = 0;
}

/**
 * The batch's rows committed, then its `synced_batches` row committed with FULL: that commit's sync
 * makes the whole WAL durable, the earlier unsynced commits included. (SQLite changes the sync
 * level only between transactions.)
 */
function sync({ db, synced }: Statements, batch: number): void {
  commit(db);
  db.pragma('synchronous = FULL');
  try {
    synced.run(batch, Date.now());
  } finally {
    db.pragma('synchronous = NORMAL');
  }
}

function answer(ticket: number): void {
  if (failure !== undefined) {
    Atomics.store(answered, 1, 1);
    errors.postMessage(failure);
  }
  Atomics.store(answered, 0, ticket);
  Atomics.notify(answered, 0);
}

// A thread that ends for any other reason still answers: the main thread never waits on it.
process.on('exit', () => {
  failure ??= 'the audit thread stopped';
  answer(0x7fffffff);
});

parentPort!.on('message', (m: AuditThreadMessage) => {
  try {
    if (open && failure === undefined && m.kind === 'rows') appendRows(open, m);
    if (open && failure === undefined && m.kind === 'sync') sync(open, m.batch);
    if (m.kind === 'close') open?.db.close();
  } catch (error) {
    // Sticky: every later sync fails too, as the main state's writes do after a disk error.
    failure ??= (error as Error).message;
  }
  if (m.kind === 'sync' || m.kind === 'close') answer(m.ticket);
});
