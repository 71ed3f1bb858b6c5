import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteSuppressionStore } from '#adapters/sqlite/sqlite-suppression-store.ts';
import { describeSuppressionStoreContract } from './suppression-store-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describeSuppressionStoreContract(
  'sqlite file',
  async () => new SqliteSuppressionStore({ path: join(dir, `s${n++}.db`) }),
);
describeSuppressionStoreContract(
  'sqlite memory',
  async () => new SqliteSuppressionStore({ path: ':memory:' }),
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
