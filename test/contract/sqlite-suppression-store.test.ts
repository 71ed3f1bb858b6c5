import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { StoreError } from '#core/errors.ts';
import type { AuditEntry } from '#core/ports.ts';
import { describeSuppressionStoreContract } from './suppression-store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeSuppressionStoreContract(
  'sqlite file',
  async (now) => new SqliteSuppressionStore({ path: join(dir, `s${n++}.db`), now }),
);
describeSuppressionStoreContract(
  'sqlite memory',
  async (now) => new SqliteSuppressionStore({ path: ':memory:', now }),
);

describe('SqliteSuppressionStore dry-run overlay', () => {
  it('reads the real state but never writes it', async () => {
    const path = join(dir, 'base.db');
    const real = new SqliteSuppressionStore({ path });
    await real.suppress([
      { subject: 'x@example.com', kind: 'bounce', reason: 'r', recordKey: 'k', at: 1, providers: [] },
    ]);
    await real.close();
    const overlay = new SqliteSuppressionStore({ path: ':memory:', basePath: path });
    const out = await overlay.suppress([
      { subject: 'x@example.com', kind: 'bounce', reason: 'r', recordKey: 'k', at: 1, providers: [] },
      { subject: 'y@example.com', kind: 'bounce', reason: 'r', recordKey: 'k2', at: 1, providers: [] },
    ]);
    expect(out.map((o) => o.state)).toEqual(['already', 'new']);
    await overlay.close();
    const again = new SqliteSuppressionStore({ path });
    expect((await again.status('y@example.com')).suppressed).toBeUndefined();
    await again.close();
  });
});

describe('SqliteSuppressionStore batches (docs/benchmarks.md)', () => {
  const request = (subject: string) => ({
    subject,
    kind: 'bounce',
    reason: 'r',
    recordKey: `k-${subject}`,
    at: 1,
    providers: [],
  });

  it('a write that fails inside a batch discards the whole batch: nothing partial is committed', async () => {
    const path = join(dir, 'batch.db');
    const store = new SqliteSuppressionStore({ path });
    store.openBatch();
    await store.suppress([request('first@example.com')]);
    await store.recordSoftBounces([{ address: 'soft@example.com', recordKey: 's1', at: 1 }], 1000);
    // A NOT NULL column left empty: the statement fails half-way through the batch.
    const broken = { at: 1, type: 'decision', action: 'ignore', reason: 'r' } as unknown as AuditEntry;
    await expect(store.appendAudit([{ ...broken, subject: 'first@example.com' }, broken])).rejects.toThrow(
      StoreError,
    );
    store.commitBatch();
    // Still usable afterwards, one transaction per call.
    await store.suppress([request('later@example.com')]);
    await store.close();
    const reopened = new SqliteSuppressionStore({ path });
    expect((await reopened.status('first@example.com')).suppressed).toBeUndefined();
    expect((await reopened.status('first@example.com')).audit).toEqual([]);
    expect((await reopened.status('soft@example.com')).softBounces).toEqual([]);
    expect((await reopened.status('later@example.com')).suppressed).toBeDefined();
    await reopened.close();
  });

  it('a batch that commits keeps every call of it', async () => {
    const path = join(dir, 'batch-ok.db');
    const store = new SqliteSuppressionStore({ path });
    store.openBatch();
    await store.suppress([request('a@example.com'), request('b@example.com')]);
    await store.appendAudit([
      { subject: 'a@example.com', at: 1, type: 'decision', action: 'unsubscribe', reason: 'r' },
    ]);
    store.commitBatch();
    await store.close();
    const reopened = new SqliteSuppressionStore({ path });
    expect((await reopened.status('b@example.com')).suppressed).toBeDefined();
    expect((await reopened.status('a@example.com')).audit.map((a) => a.action)).toEqual(['unsubscribe']);
    await reopened.close();
  });
});

describe('SqliteSuppressionStore durability', () => {
  it('commits with synchronous=FULL: a decision written is a decision kept, power loss included', async () => {
    // The accounting pipe cannot be replayed; WAL with NORMAL may roll the last commits back on
    // power loss (docs/benchmarks.md has the cost). A dry run's throwaway state syncs nothing.
    const real = new SqliteSuppressionStore({ path: join(dir, 'durable.db') });
    expect(real.durability()).toEqual({ journalMode: 'wal', synchronous: 'full' });
    await real.close();
    const scratch = new SqliteSuppressionStore({ path: join(dir, 'scratch.db'), scratch: true });
    expect(scratch.durability().synchronous).toBe('off');
    await scratch.close();
  });
});

describe('SqliteSuppressionStore expiry (docs/security.md)', () => {
  it('sweeps expired provisional suppressions, their audit and outbox actions on open', async () => {
    const path = join(dir, 'sweep.db');
    let now = 1_000;
    const first = new SqliteSuppressionStore({ path, now: () => now });
    const provisional = {
      subject: 'ref:mailwizz:l:s',
      kind: 'unsubscribe',
      reason: 'mailto',
      recordKey: 'k',
      at: 1_000,
      providers: ['mw'],
      expiresAt: 5_000,
    };
    await first.suppress([
      provisional,
      { ...provisional, subject: 'kept@example.com', expiresAt: undefined },
    ]);
    await first.appendAudit([
      {
        subject: provisional.subject,
        at: 1_000,
        type: 'decision',
        action: 'unsubscribe',
        reason: 'r',
        expiresAt: 5_000,
      },
    ]);
    first.enqueueActions([
      {
        v: 1,
        id: provisional.subject,
        subject: provisional.subject,
        target: { type: 'ref', ref: { providerType: 'mailwizz', listId: 'l', subscriberId: 's' } },
        kind: 'unsubscribe',
        reason: 'mailto',
        providers: ['mw'],
        unverifiedUntil: 5_000,
      },
    ]);
    await first.close();
    now = 5_001;
    const reopened = new SqliteSuppressionStore({ path, now: () => now });
    expect(reopened.pendingActions()).toEqual([]);
    expect(reopened.sweepExpired()).toBe(0);
    expect((await reopened.status(provisional.subject)).audit).toEqual([]);
    expect((await reopened.status('kept@example.com')).suppressed).toBeDefined();
    await reopened.close();
  });

  it('opens a state file written before expires_at existed', async () => {
    const path = join(dir, 'old.db');
    const Database = (await import('better-sqlite3')).default;
    const old = new Database(path);
    old.exec(`CREATE TABLE suppressions (subject TEXT PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,
      category TEXT, reason TEXT NOT NULL, record_key TEXT NOT NULL, providers_done TEXT NOT NULL DEFAULT '[]');
      CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, at INTEGER NOT NULL,
      type TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL, provider TEXT, outcome TEXT, lists TEXT,
      line INTEGER, record_key TEXT);
      INSERT INTO suppressions (subject, at, kind, reason, record_key) VALUES ('old@example.com', 1, 'bounce', 'r', 'k');`);
    old.close();
    const store = new SqliteSuppressionStore({ path });
    expect((await store.status('old@example.com')).suppressed).toMatchObject({ kind: 'bounce' });
    const [out] = await store.suppress([
      {
        subject: 'new@example.com',
        kind: 'unsubscribe',
        reason: 'r',
        recordKey: 'k',
        at: 1,
        providers: [],
        expiresAt: Date.now() + 1000,
      },
    ]);
    expect(out?.state).toBe('new');
    await store.close();
  });
});
