/**
 * bin/pmta-bounce.js starts from the CLI bundle (dist/cli) only while every source it was built
 * from is unchanged, and from the TypeScript sources (tsx) otherwise: a stale bundle never runs.
 * Works on a copy of the repository in a temp dir (node_modules linked), never on the real sources.
 * Which entry ran is read from `--help`: the copy's bundle and its sources each get their own mark.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleCli } from '../../scripts/cli-bundle.js';

const ROOT = join(import.meta.dirname, '../..');
const copy = mkdtempSync(join(tmpdir(), 'pmta-bounce-bundle-'));
const HELP_LINE = 'pmta-bounce — bounce, complaint and unsubscribe handler for PowerMTA';
const SOURCE = join(copy, 'functions/cli/main.ts');

function helpHeadline(env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [join(copy, 'bin/pmta-bounce.js'), '--help'],
      { cwd: copy, env: { ...process.env, PMTA_BOUNCE_FROM_SOURCE: '', ...env }, timeout: 25_000 },
      (error, stdout) => (error ? reject(error) : resolve(stdout.split('\n')[0]!)),
    );
  });
}

/** Rewrites the help headline in a file: the bundle's or a source's mark. */
function mark(file: string, headline: string): void {
  const text = readFileSync(file, 'utf8');
  expect(text).toContain(HELP_LINE);
  writeFileSync(file, text.replace(HELP_LINE, headline));
}

let metafile: Metafile;

/** Packages the entry's chunk loads before `main` runs: its static imports, transitively. */
function startupPackages(): string[] {
  const outputs = metafile.outputs;
  const entry = Object.keys(outputs).find((file) => file.endsWith('/main.js'))!;
  const seen = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const i of outputs[file]!.imports) {
      if (i.kind !== 'import-statement') continue;
      if (!i.external) visit(i.path);
      else if (!i.path.startsWith('node:')) packages.add(i.path.split('/')[0]!);
    }
  };
  visit(entry);
  return [...packages].sort();
}

beforeAll(async () => {
  for (const part of ['bin', 'functions', 'scripts', 'package.json', 'tsconfig.json'])
    cpSync(join(ROOT, part), join(copy, part), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  ({ metafile } = await bundleCli(copy));
  // The bundle says which entry ran; the sources say nothing new until a test edits them.
  mark(join(copy, 'dist/cli/main.js'), 'FROM-BUNDLE');
}, 60_000);
afterAll(() => rmSync(copy, { recursive: true, force: true }));

describe('bin/pmta-bounce.js: the bundle while fresh, else the sources', () => {
  it('runs the bundle when no input changed since the build', async () => {
    expect(await helpHeadline()).toBe('FROM-BUNDLE');
  });

  it('runs the sources when asked to (PMTA_BOUNCE_FROM_SOURCE=1)', async () => {
    expect(await helpHeadline({ PMTA_BOUNCE_FROM_SOURCE: '1' })).toBe(HELP_LINE);
  });

  it('runs the sources once a source file is touched, even with the same content', async () => {
    const { atime, mtime } = statSync(SOURCE);
    utimesSync(SOURCE, atime, new Date(mtime.getTime() + 1000));
    expect(await helpHeadline()).toBe(HELP_LINE);
  });

  it("runs a developer's edit, not the bundle built before it", async () => {
    mark(SOURCE, 'FROM-EDITED-SOURCE');
    expect(await helpHeadline()).toBe('FROM-EDITED-SOURCE');
  });

  it('runs the sources when the manifest is missing or names a deleted input', async () => {
    const manifest = join(copy, 'dist/cli/manifest.json');
    const text = readFileSync(manifest, 'utf8');
    const inputs = JSON.parse(text) as { entry: string; inputs: [string, number, number][] };
    writeFileSync(
      manifest,
      JSON.stringify({ ...inputs, inputs: [...inputs.inputs, ['functions/cli/gone.ts', 1, 1]] }),
    );
    expect(await helpHeadline()).toBe('FROM-EDITED-SOURCE');
    rmSync(manifest);
    expect(await helpHeadline()).toBe('FROM-EDITED-SOURCE');
  });
});

describe('what every command loads at startup (docs/benchmarks.md, "Startup and the RSS floor")', () => {
  it('is zod, csv-parse and better-sqlite3: the AWS SDK, yaml, the emulators and the sandbox load on demand', () => {
    expect(startupPackages()).toEqual(['better-sqlite3', 'csv-parse', 'zod']);
  });
});
