/** Test helper: run the streaming reader over a string (in small chunks, to cross boundaries). */
import { createAccountingReader } from '#core/accounting/accounting-reader.ts';
import type { ParseOutcome } from '#core/mail-event.ts';

function readAccounting(
  text: string | Buffer,
  options: { fields?: string[]; chunk?: number } = {},
): ParseOutcome[] {
  const out: ParseOutcome[] = [];
  const reader = createAccountingReader({ fields: options.fields }, (o) => out.push(o));
  const buf = typeof text === 'string' ? Buffer.from(text) : text;
  const size = options.chunk ?? 7;
  for (let i = 0; i < buf.length; i += size) reader.write(buf.subarray(i, i + size));
  reader.end();
  return out;
}

export { readAccounting };
