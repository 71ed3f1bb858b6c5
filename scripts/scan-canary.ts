/**
 * CI guard: passes its stdin through to stdout unchanged and fails (exit 1) if the test canary
 * credential appeared anywhere in it, raw, URL-encoded or base64 (standard or URL-safe, at any byte
 * offset). The test suite puts this canary in every credential slot it uses (vitest.config.ts sets
 * PMTA_BOUNCE_TEST_CANARY), so a hit means some code path printed a credential.
 *
 *   set -o pipefail; npm test 2>&1 | node --import tsx scripts/scan-canary.ts
 *
 * The hit report names the form and the output line number, never the matching text.
 */
import { pathToFileURL } from 'node:url';

/** Obviously fake; alphanumeric so it is valid base64 too (the webhook secret format). */
const TEST_CANARY = 'Canary7f3e9b1cNotARealSecret';

/** The canary as it looks inside base64 text at byte offsets 0, 1 and 2 (the stable middle only). */
function base64Forms(value: string): Array<[string, string]> {
  const bytes = Buffer.from(value, 'utf8');
  const out: Array<[string, string]> = [];
  for (let k = 0; k < 3; k += 1) {
    const encoded = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    const stable = encoded.slice(Math.ceil((8 * k) / 6), Math.floor((8 * (k + bytes.length)) / 6));
    out.push([`base64@${k}`, stable], [`base64url@${k}`, stable.replaceAll('+', '-').replaceAll('/', '_')]);
  }
  return out;
}

/** Named forms of a leak; duplicates (an alphanumeric value URL-encodes to itself) collapse. */
function canaryForms(value: string = TEST_CANARY): Array<[name: string, text: string]> {
  const all: Array<[string, string]> = [
    ['raw', value],
    ['url-encoded', encodeURIComponent(value)],
    ...base64Forms(value),
  ];
  const seen = new Set<string>();
  return all.filter(([, text]) => !seen.has(text) && seen.add(text) !== undefined);
}

interface CanaryHit {
  form: string;
  line: number;
}

/**
 * A streaming scanner: feed text chunks, collect hits. Keeps the tail of the previous chunk so a
 * leak split across two chunks is still found.
 */
function createCanaryScanner(value: string = TEST_CANARY) {
  const forms = canaryForms(value);
  const keep = Math.max(...forms.map(([, t]) => t.length)) - 1;
  const hits: CanaryHit[] = [];
  let carry = '';
  let carryLine = 1;
  return {
    hits,
    write(chunk: string): void {
      const text = carry + chunk;
      for (const [form, needle] of forms) {
        for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
          // A hit lying wholly inside the carried tail was already counted with the previous chunk.
          if (at + needle.length <= carry.length) continue;
          hits.push({ form, line: carryLine + countNewlines(text, 0, at) });
        }
      }
      const cut = Math.max(0, text.length - keep);
      carryLine += countNewlines(text, 0, cut);
      carry = text.slice(cut);
    },
  };
}

function countNewlines(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = text.indexOf('\n', from); i >= 0 && i < to; i = text.indexOf('\n', i + 1)) n += 1;
  return n;
}

async function main(): Promise<number> {
  const scanner = createCanaryScanner(process.env.PMTA_BOUNCE_TEST_CANARY || TEST_CANARY);
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    const text = chunk as string;
    if (!process.stdout.write(text)) await new Promise((resolve) => process.stdout.once('drain', resolve));
    scanner.write(text);
  }
  if (scanner.hits.length === 0) {
    process.stderr.write('scan-canary: no credential canary in the test output\n');
    return 0;
  }
  const where = scanner.hits
    .slice(0, 20)
    .map((h) => `line ${h.line} (${h.form})`)
    .join(', ');
  process.stderr.write(
    `scan-canary: FAILED: the test credential canary appeared ${scanner.hits.length} time(s) in the test output: ${where}\n`,
  );
  return 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`scan-canary: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}

export type { CanaryHit };
export { canaryForms, createCanaryScanner, TEST_CANARY };
