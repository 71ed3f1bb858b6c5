/**
 * One measured run in its own process (so peak RSS is its own): `bare FILE` counts records with
 * csv-parse alone; `cli ARGS...` runs `pmta-bounce` in-process (`cli-sync-normal ARGS...` the same
 * with the state at synchronous=NORMAL). Prints one JSON line.
 */
import { createReadStream } from 'node:fs';
import { Writable } from 'node:stream';
import { parse } from 'csv-parse';
import { SqliteSuppressionStore } from '../functions/adapters/sqlite/sqlite-suppression-store.ts';
import { main } from '../functions/cli/main.ts';

const [mode, ...rest] = process.argv.slice(2);
// `cli-sync-normal`: the CLI with the state committing at synchronous=NORMAL, the baseline that
// shows what the product's FULL costs (docs/benchmarks.md).
if (mode === 'cli-sync-normal') SqliteSuppressionStore.defaultSynchronous = 'NORMAL';
const started = performance.now();
let records = 0;
let summary: unknown;
if (mode === 'bare') {
  const parser = createReadStream(rest[0]!, { highWaterMark: 256 * 1024 }).pipe(
    parse({ relax_column_count: true }),
  );
  for await (const _ of parser) records++;
} else {
  let out = '';
  const stdout = new Writable({
    write(chunk, _enc, cb) {
      out += chunk;
      cb();
    },
  });
  const code = await main(rest, {
    stdin: process.stdin,
    stdout,
    stderr: process.stderr,
    env: process.env,
    now: () => Date.now(),
  });
  summary = JSON.parse(out);
  // `process` counts records, `suppressions import` rows.
  records = (summary as { records?: number; rows?: number }).records ?? (summary as { rows: number }).rows;
  if (code !== 0) throw new Error(`exit ${code}`);
}
const seconds = (performance.now() - started) / 1000;
process.stdout.write(
  `${JSON.stringify({ mode, records, seconds, recordsPerSecond: Math.round(records / seconds), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`,
);
