/**
 * Writes generated lines to a file in 1 MiB pieces, waiting for the stream when it is full, so a
 * million-record input costs the benchmark no more memory than one piece.
 */
import { createWriteStream } from 'node:fs';

async function writeLines(path: string, lines: Iterable<string>, eol = '\n'): Promise<void> {
  const out = createWriteStream(path);
  let buffer = '';
  for (const line of lines) {
    buffer += `${line}${eol}`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await new Promise<void>((r) => out.once('drain', () => r()));
      buffer = '';
    }
  }
  out.end(buffer);
  await new Promise<void>((r) => out.on('finish', () => r()));
}

export { writeLines };
