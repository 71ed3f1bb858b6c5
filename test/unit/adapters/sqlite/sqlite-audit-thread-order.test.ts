/**
 * The merged read of the audit trail (sqlite-audit-trail.ts) over the state's own entries and the
 * decision file's (sqlite-decision-file.ts): a decision-file row sits after the state entry that
 * was last when the thread was handed it (after_seq), rows of one after_seq keep the thread's
 * order, and a row of a batch the state never named does not show. Written through the store with
 * the audit thread from the first entry (auditThreadAfter 0), the worker booted from the sources.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import type { AuditEntry } from '#core/ports.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-audit-order-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T = Date.UTC(2026, 0, 5, 9, 0, 0);
const decision = (subject: string, line: number): AuditEntry => ({
  subject,
  at: T + line,
  type: 'decision',
  action: line % 2 ? 'unsubscribe' : 'already-suppressed',
  reason: `record ${line}`,
  line,
});
const provider = (subject: string, line: number, expiresAt?: number): AuditEntry => ({
  subject,
  at: T + line,
  type: 'provider',
  action: 'unsubscribe',
  reason: `call ${line}`,
  provider: 'mw',
  outcome: 'done',
  // Provider entries carry no line: the reason says which step wrote them.
  ...(expiresAt === undefined ? {} : { expiresAt }),
});

/** The trail of `subject` as its steps' names: `record N` for decisions, `call N` for provider entries. */
async function trail(path: string, subject: string, now = () => T): Promise<string[]> {
  const store = new SqliteSuppressionStore({ path, now });
  try {
    return (await store.status(subject)).audit.map((a) => a.reason);
  } finally {
    await store.close();
  }
}

describe('the audit trail merged from the state and the decision file', () => {
  it('places each thread row after the state entry last before it, in the thread order', async () => {
    const path = join(dir, 'order.db');
    const store = new SqliteSuppressionStore({ path, auditThreadAfter: 0 });
    store.openBatch();
    await store.appendAudit([decision('a', 1), decision('b', 2), decision('a', 3)]); // thread
    await store.appendAudit([provider('a', 4)]); // state (not a plain decision)
    await store.appendAudit([decision('a', 5)]); // thread, after call 4
    await store.appendAudit([decision('a', 7), decision('b', 8)]); // thread, after call 4 too
    await store.appendAudit([provider('b', 9), provider('a', 10)]); // state
    store.commitBatch();
    store.openBatch();
    await store.appendAudit([decision('a', 11)]); // thread, a second batch
    store.commitBatch();
    await store.close();

    const file = new Database(`${path}-audit`, { readonly: true });
    const rows = file.prepare('SELECT count(*) AS n, count(DISTINCT batch) AS batches FROM decisions').get();
    file.close();
    expect(rows).toEqual({ n: 7, batches: 2 });
    expect(await trail(path, 'a')).toEqual([
      'record 1',
      'record 3',
      'call 4',
      'record 5',
      'record 7',
      'call 10',
      'record 11',
    ]);
    expect(await trail(path, 'b')).toEqual(['record 2', 'record 8', 'call 9']);
  });

  it('drops the rows of a batch that rolled back, keeping those of the batches before and after', async () => {
    const path = join(dir, 'rolled-back.db');
    const store = new SqliteSuppressionStore({ path, auditThreadAfter: 0 });
    store.openBatch();
    await store.appendAudit([decision('a', 1)]);
    store.commitBatch();
    store.openBatch();
    await store.appendAudit([decision('a', 3)]);
    // A failing write in the open batch rolls it back (sqlite-suppression-store.ts, atomically).
    await expect(store.suppress([{ subject: 'a', at: Number.NaN } as never])).rejects.toThrow();
    store.openBatch();
    await store.appendAudit([decision('a', 5)]);
    store.commitBatch();
    await store.close();

    const file = new Database(`${path}-audit`, { readonly: true });
    const stored = file.prepare('SELECT line FROM decisions ORDER BY seq').pluck().all();
    file.close();
    expect(stored).toEqual([1, 3, 5]); // the rolled-back row is in the file, an orphan
    expect(await trail(path, 'a')).toEqual(['record 1', 'record 5']);
  });
});

describe('an expired entry swept from the state', () => {
  it('leaves its seq unused: a later entry still sorts after the thread rows placed after it', async () => {
    const path = join(dir, 'swept.db');
    const before = new SqliteSuppressionStore({ path, now: () => T });
    await before.appendAudit([decision('a', 1), provider('z', 2, T + 1000)]);
    await before.close();
    const threaded = new SqliteSuppressionStore({ path, now: () => T, auditThreadAfter: 0 });
    threaded.openBatch();
    await threaded.appendAudit([decision('a', 3)]); // after call 2, z's provisional entry
    threaded.commitBatch();
    await threaded.close();
    // z's entry expires and is swept on open; a's next entry must not take its place.
    const later = new SqliteSuppressionStore({ path, now: () => T + 2000 });
    await later.appendAudit([provider('a', 4)]);
    expect((await later.status('z')).audit).toEqual([]);
    await later.close();
    expect(await trail(path, 'a', () => T + 2000)).toEqual(['record 1', 'record 3', 'call 4']);
    const db = new Database(path, { readonly: true });
    const stored = db.prepare("SELECT count(*) FROM audit_trail WHERE subject = 'z'").pluck().get();
    db.close();
    expect(stored).toBe(0); // nothing of z's unverified entry outlives its expiry
  });
});
