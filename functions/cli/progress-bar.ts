/**
 * A one-line progress display on a terminal (stderr), redrawn at most every 200 ms.
 */
import type { Writable } from 'node:stream';
import { formatCount } from './format-count.ts';

interface ProgressBar {
  update(records: number, bytes: number): void;
  done(): void;
}

function createProgressBar(
  stream: Writable & { columns?: number },
  totalBytes: number | undefined,
  now: () => number,
): ProgressBar {
  const started = now();
  let last = 0;
  let drawn = false;
  const draw = (records: number, bytes: number): void => {
    const seconds = Math.max((now() - started) / 1000, 0.001);
    const rate = formatCount(records / seconds);
    const count = formatCount(records);
    let text = `${count} records  ${rate}/s`;
    if (totalBytes && totalBytes > 0) {
      const ratio = Math.min(1, bytes / totalBytes);
      const width = 30;
      const fill = Math.round(ratio * width);
      text = `[${'='.repeat(fill)}${' '.repeat(width - fill)}] ${(ratio * 100).toFixed(0).padStart(3)}%  ${text}`;
    }
    stream.write(`\r${text}\u001b[K`);
    drawn = true;
  };
  return {
    update(records, bytes) {
      const t = now();
      if (t - last < 200) return;
      last = t;
      draw(records, bytes);
    },
    done() {
      if (drawn) stream.write('\r\u001b[K');
    },
  };
}

export type { ProgressBar };
export { createProgressBar };
