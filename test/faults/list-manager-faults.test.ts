/**
 * Fault rows for the list managers added by issue 18 (listmonk, Mautic, MailWizz `bounceAs`):
 * `process` against each fake with a provider fault — 5xx, 429 with Retry-After, hanging requests,
 * refused credentials (fixed before the next run), answers lost after the change — then the runs
 * that retry what is pending. Every row must end with each hard bounce and complaint applied
 * exactly once per subscriber, nothing failed, and a last run that makes no call. The cloud-path
 * matrix (fault-matrix.ts) covers the shipper, queues and tables with the original providers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  harnessFiles,
  LIST_MANAGER_HARNESSES,
  ONCE_EACH,
  runCli,
  TOKEN,
} from '#test/support/list-manager-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-lm-faults-'));
const table: string[] = [];
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(`\nlist-manager fault rows\n${table.join('\n')}\n`);
});

interface Row {
  fault: string;
  tuning: string;
  /** Injected on the provider's fake before the first run. */
  inject(harness: { http: { inject(f: object): void }; mutating: string }): void;
  /** Credentials for the first run (the later runs get the right ones). */
  firstEnv?: Record<string, string>;
}

const ROWS: Row[] = [
  { fault: '5xx', tuning: 'maxRetries: 3', inject: (h) => h.http.inject({ status: 503, times: 4 }) },
  {
    fault: '429 Retry-After',
    tuning: 'maxRetries: 2',
    inject: (h) => h.http.inject({ status: 429, retryAfter: '1', times: 2 }),
  },
  {
    fault: 'timeout',
    tuning: 'maxRetries: 2, timeoutMs: 300',
    inject: (h) => h.http.inject({ hang: true, times: 2 }),
  },
  {
    fault: 'auth',
    tuning: 'maxRetries: 2',
    inject: () => {},
    firstEnv: { TOKEN: 'not-the-token-at-all-00000000000' },
  },
  {
    fault: 'lost answer',
    tuning: 'maxRetries: 0',
    inject: (h) => h.http.inject({ endpoint: h.mutating, phase: 'after', status: 502, times: 3 }),
  },
];

const cases = Object.keys(LIST_MANAGER_HARNESSES).flatMap((provider) =>
  ROWS.map((row) => ({ provider, row })),
);

describe('list-manager fault rows', () => {
  it.each(cases)(
    '$provider, $row.fault: once per subscriber, nothing pending, no call after',
    async ({ provider, row }) => {
      const harness = await LIST_MANAGER_HARNESSES[provider]!(row.tuning);
      try {
        const f = harnessFiles(dir, `${provider}-${row.fault}`, harness, harness.campaign);
        const state = f.state('s');
        row.inject(harness);
        const args = ['--config', f.config, '--state', state, '--json'];
        const first = await runCli(['process', f.input, ...args], row.firstEnv ?? { TOKEN });
        let runs = 1;
        let last = first;
        // Pending actions are retried by later runs (a pipe never replays the records).
        while (last.code !== 0 && runs < 4) {
          last = await runCli(['process', f.empty, ...args]);
          runs += 1;
        }
        expect(last.summary).toMatchObject({ failed: 0 });
        expect(harness.writesPerAddress()).toEqual(ONCE_EACH);
        const requests = harness.http.totalRequests();
        const after = await runCli(['process', f.input, ...args]);
        expect(after.summary).toMatchObject({ unsubscribed: 0, failed: 0 });
        expect(harness.http.totalRequests()).toBe(requests);
        const firstFailed = Number(first.summary.failed ?? 0);
        table.push(
          `${provider.padEnd(38)} ${row.fault.padEnd(16)} first run failed ${firstFailed}, runs ${runs}, requests ${requests}, lost 0, twice 0`,
        );
      } finally {
        await harness.close();
      }
    },
    60_000,
  );
});
