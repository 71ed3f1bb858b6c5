/**
 * The shipper's fence: it runs alone on the PowerMTA box as one bundle (scripts/shipper-bundle.js), so
 * it imports node built-ins, its own files, and of the rest of the repo only the envelope wire
 * format; and its files import each other without a cycle.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '../../..');
const SHIPPER = join(ROOT, 'shipper');
/** What the shipper may import from outside shipper/. */
const ALLOWED_OUTSIDE = new Set(['#core/envelope/envelope-wire.ts']);

/** Files by path (relative to the repo) → their source. */
type Sources = Map<string, string>;

function shipperSources(dir = SHIPPER, out: Sources = new Map()): Sources {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) shipperSources(path, out);
    else if (e.name.endsWith('.ts')) out.set(relative(ROOT, path), readFileSync(path, 'utf8'));
  }
  return out;
}

function specifiers(source: string): string[] {
  return [...source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/g)].map(
    (m) => m[1] as string,
  );
}

/** Imports that leave shipper/ for anything but node built-ins and the allowed modules. */
function forbiddenImports(sources: Sources): string[] {
  const found: string[] = [];
  for (const [file, source] of sources) {
    for (const spec of specifiers(source)) {
      if (spec.startsWith('node:') || ALLOWED_OUTSIDE.has(spec)) continue;
      const inside = spec.startsWith('.') && resolve(ROOT, dirname(file), spec).startsWith(`${SHIPPER}/`);
      if (!inside) found.push(`${file} imports ${spec}`);
    }
  }
  return found;
}

/** One cycle per strongly connected start found by depth-first search (type imports count too). */
function importCycles(sources: Sources): string[] {
  const edges = new Map<string, string[]>();
  for (const [file, source] of sources)
    edges.set(
      file,
      specifiers(source)
        .filter((s) => s.startsWith('.'))
        .map((s) => relative(ROOT, resolve(ROOT, dirname(file), s))),
    );
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const cycles: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (!state.has(next) && edges.has(next)) visit(next);
    }
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of edges.keys()) if (!state.has(file)) visit(file);
  return cycles;
}

describe('shipper imports', () => {
  const sources = shipperSources();

  it('has files to check', () => {
    expect(sources.size).toBeGreaterThan(20);
  });

  it('imports of the repo only the envelope wire format, and no package', () => {
    expect(forbiddenImports(sources)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(importCycles(sources)).toEqual([]);
  });

  it('catches a planted violation of each rule', () => {
    const planted: Sources = new Map([
      ['shipper/a.ts', "import { b } from './b.ts';\nimport { z } from 'zod';"],
      ['shipper/b.ts', "import type { A } from './a.ts';\nimport { x } from '#core/decide/decide.ts';"],
      ['shipper/c.ts', "import { y } from '../functions/core/errors.ts';"],
    ]);
    expect(forbiddenImports(planted)).toEqual([
      'shipper/a.ts imports zod',
      'shipper/b.ts imports #core/decide/decide.ts',
      'shipper/c.ts imports ../functions/core/errors.ts',
    ]);
    expect(importCycles(planted)).toEqual(['shipper/a.ts → shipper/b.ts → shipper/a.ts']);
  });
});
