/**
 * A state file written by the version before issue 14 (its exact DDL, rows as that version wrote
 * them: audit rows with their texts and record keys inline, soft bounces keyed by the record key
 * text) keeps working: read-only readers (a dry run's base, `report`) read it as it is; the first
 * writer migrates it (sqlite-state-schema.ts; soft_bounces becomes one B-tree keyed by the record
 * key's hash) and `status`, `suppressions export` and `undo` give the answers the old layout held
 * (record keys shown as hashes); a replayed soft bounce is still counted once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordKeyHash, recordKeyLabel } from '#adapters/sqlite/sqlite-state-schema.ts';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { SqliteTrafficStore } from '#adapters/sqlite/sqlite-traffic-store.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { runCliText } from '#test/support/cli-run.ts';

/** The state tables exactly as the previous version created them (columns added on open included). */
const OLD_DDL = `
CREATE TABLE suppressions (subject TEXT PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL, category TEXT,
  reason TEXT NOT NULL, record_key TEXT NOT NULL, providers_done TEXT NOT NULL DEFAULT '[]',
  expires_at INTEGER, rule TEXT, record_type TEXT, job_id TEXT);
CREATE TABLE soft_bounces (address TEXT NOT NULL, record_key TEXT NOT NULL, at INTEGER NOT NULL,
  PRIMARY KEY (address, record_key));
CREATE INDEX soft_bounces_at ON soft_bounces (address, at);
CREATE TABLE soft_resets (address TEXT PRIMARY KEY, at INTEGER NOT NULL);
CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, subject TEXT NOT NULL, at INTEGER NOT NULL,
  type TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL, provider TEXT, outcome TEXT, lists TEXT,
  line INTEGER, record_key TEXT, expires_at INTEGER, rule TEXT);
CREATE INDEX audit_subject ON audit (subject, id);
CREATE TABLE rate_counters (key TEXT NOT NULL, window_start INTEGER NOT NULL, count INTEGER NOT NULL,
  expires_at INTEGER NOT NULL, PRIMARY KEY (key, window_start));
CREATE TABLE rejects (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, source TEXT NOT NULL,
  line INTEGER NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL);
CREATE INDEX suppressions_expiry ON suppressions (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX audit_expiry ON audit (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX rate_counters_expiry ON rate_counters (expires_at);
CREATE TABLE outbox (subject TEXT PRIMARY KEY, action TEXT NOT NULL);
CREATE TABLE outbox_parked (subject TEXT NOT NULL, provider TEXT NOT NULL, at INTEGER NOT NULL,
  error TEXT NOT NULL, PRIMARY KEY (subject, provider));
`;

const T = Date.UTC(2026, 10, 1, 10, 0, 0);
const DAY = 86_400_000;
const KEY = 'f'.repeat(40);
const REASON = 'category=bad-mailbox rule=pmta: hard bounce, unsubscribe everywhere';
const ANN_KEY = 'b|ann@example.com|2026-11-01 10:00:00+0000|job-41||5.1.1|';
const SOFT_KEYS = ['b|soft@example.com|2026-10-31 10:00:00+0000|job-9||4.2.2|', 'b|soft@example.com|k2'];

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-old-state-'));
const state = join(dir, 'state.db');
let fake: FakeMailwizzServer;
let news: string;

/** The rows the previous version wrote for: ann and keep hard-bounced (MailWizz done), soft twice. */
function writeOldState(): void {
  const db = new Database(state);
  db.exec(OLD_DDL);
  const suppress = db.prepare(
    `INSERT INTO suppressions (subject, at, kind, category, reason, record_key, providers_done, rule, record_type, job_id)
     VALUES (?, ?, 'bounce', 'bad-mailbox', ?, ?, '["mw"]', 'pmta', 'b', ?)`,
  );
  const audit = db.prepare(
    `INSERT INTO audit (subject, at, type, action, reason, provider, outcome, lists, line, record_key, rule)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const lists = JSON.stringify([
    { listId: news, listName: 'News', outcome: 'done', previousStatus: 'confirmed' },
  ]);
  for (const [subject, job, line] of [
    ['ann@example.com', 'job-41', 2],
    ['keep@example.com', 'job-44', 3],
  ] as const) {
    const key = subject === 'ann@example.com' ? ANN_KEY : `b|${subject}|k`;
    suppress.run(subject, T, REASON, key, job);
    audit.run(subject, T, 'decision', 'unsubscribe', REASON, null, null, null, line, key, 'pmta');
    audit.run(subject, T + 5000, 'provider', 'unsubscribe', REASON, 'mw', 'done', lists, null, null, null);
  }
  SOFT_KEYS.forEach((key, i) => {
    db.prepare('INSERT INTO soft_bounces (address, record_key, at) VALUES (?, ?, ?)').run(
      'soft@example.com',
      key,
      T - DAY + i * 1000,
    );
    audit.run(
      'soft@example.com',
      T - DAY + i * 1000,
      'decision',
      'soft-bounce',
      'quota (1 within 7d)',
      null,
      null,
      null,
      4 + i,
      key,
      'pmta',
    );
  });
  db.close();
}

const tables = () => {
  const db = new Database(state, { readonly: true });
  const names = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>
  ).map((t) => t.name);
  db.close();
  return names;
};

beforeAll(async () => {
  fake = await FakeMailwizzServer.start({ mode: 'v2', apiKey: KEY });
  news = fake.addList('News');
  fake.addSubscriber(news, 'ann@example.com', 'unsubscribed');
  fake.addSubscriber(news, 'keep@example.com', 'unsubscribed');
  writeOldState();
});
afterAll(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a state file from before issue 14', () => {
  it('is read as it is by read-only readers (dry-run base, report): soft bounces and provider counts', async () => {
    const overlay = new SqliteSuppressionStore({ path: ':memory:', basePath: state });
    const [count] = await overlay.recordSoftBounces(
      [{ address: 'soft@example.com', recordKey: 'new', at: T }],
      7 * DAY,
    );
    expect(count).toBe(3);
    await overlay.close();
    const traffic = new SqliteTrafficStore(state, { readonly: true });
    expect(await traffic.unsubscribesByProvider()).toEqual({ mw: 2 });
    await traffic.close();
    expect(tables()).toContain('audit');
  });

  it('status shows the same suppression and trail after the first writer migrates it', async () => {
    const text = await runCliText(['status', 'ann@example.com', '--state', state]);
    expect(tables()).not.toContain('audit');
    expect(tables()).not.toContain('soft_bounces_rowid');
    const db = new Database(state, { readonly: true });
    const softTable = db.prepare("SELECT sql FROM sqlite_master WHERE name = 'soft_bounces'").get() as {
      sql: string;
    };
    db.close();
    expect(softTable.sql).toMatch(/WITHOUT ROWID/);
    expect(softTable.sql).toMatch(/record_hash INTEGER/);
    expect(softTable.sql).not.toMatch(/record_key/);
    expect(text.stdout).toBe(
      [
        'ann@example.com: SUPPRESSED since 2026-11-01 10:00:00Z (bounce, bad-mailbox)',
        `  reason: ${REASON}`,
        '  providers done: mw',
        '  audit (2):',
        `    2026-11-01 10:00:00Z decision unsubscribe line 2: ${REASON}`,
        '    2026-11-01 10:00:05Z provider mw done [News=done]',
        '',
      ].join('\n'),
    );
    const json = JSON.parse(
      (await runCliText(['status', 'ann@example.com', '--state', state, '--json'])).stdout,
    );
    expect(json.audit[0]).toMatchObject({
      rule: 'pmta',
      line: 2,
      recordKey: recordKeyLabel(recordKeyHash(ANN_KEY)),
    });
    expect(json.audit[1].lists).toEqual([
      { listId: news, listName: 'News', outcome: 'done', previousStatus: 'confirmed' },
    ]);
    const soft = JSON.parse(
      (await runCliText(['status', 'soft@example.com', '--state', state, '--json'])).stdout,
    );
    // Soft bounces are keyed by the hash now, shown as audit entries' keys are.
    expect(soft.softBounces).toEqual(
      SOFT_KEYS.map((key, i) => ({ at: T - DAY + i * 1000, recordKey: recordKeyLabel(recordKeyHash(key)) })),
    );
    expect(soft.audit.map((a: { reason: string; line: number }) => [a.reason, a.line])).toEqual([
      ['quota (1 within 7d)', 4],
      ['quota (1 within 7d)', 5],
    ]);
  });

  it('a soft bounce replayed after the migration is counted once', async () => {
    const store = new SqliteSuppressionStore({ path: state });
    const counts = await store.recordSoftBounces(
      [{ address: 'soft@example.com', recordKey: SOFT_KEYS[1]!, at: T - DAY + 1000 }],
      7 * DAY,
    );
    expect(counts).toEqual([2]);
    await store.close();
  });

  it('suppressions export and undo read the migrated provenance and lists', async () => {
    const rows = JSON.parse(
      (await runCliText(['suppressions', 'export', '--format', 'json', '--state', state])).stdout,
    ) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.address, r.reason, r.rule, r.job])).toEqual([
      ['ann@example.com', REASON, 'pmta', 'job-41'],
      ['keep@example.com', REASON, 'pmta', 'job-44'],
    ]);
    const config = join(dir, 'config.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      config,
      `providers:\n  - { id: mw, type: mailwizz, url: "${fake.url}", apiKey: "\${MW_KEY}" }\n`,
    );
    const undo = await runCliText(
      ['undo', '--job', 'job-41', '--yes', '--json', '--config', config, '--state', state],
      {
        env: { MW_KEY: KEY },
      },
    );
    expect(JSON.parse(undo.stdout)).toMatchObject({ selected: 1, undone: 1, done: 1, failed: 0 });
    expect(fake.subscribers.find((s) => s.email === 'ann@example.com')?.status).toBe('confirmed');
    expect(fake.subscribers.find((s) => s.email === 'keep@example.com')?.status).toBe('unsubscribed');
    const status = await runCliText(['status', 'ann@example.com', '--state', state]);
    expect(status.stdout).toMatch(
      /decision unsubscribe[\s\S]*provider mw done[\s\S]*decision undo[\s\S]*provider mw resubscribe done/,
    );
  });
});
