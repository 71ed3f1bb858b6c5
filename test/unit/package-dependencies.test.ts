/**
 * What an install brings (docs/security.md, "Dependencies"): product code imports only runtime
 * `dependencies`; the emulators (fauxqs, dynalite) are devDependencies that the sandbox loads
 * lazily, with a clear message when they are missing; tests, benches and infra import only
 * declared packages.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importEmulator } from '#sandbox/servers.ts';

const ROOT = join(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const EMULATORS = ['fauxqs', 'dynalite'];

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** Package names of `import ... from 'x'` (static) in our own sources; dynamic import() excluded. */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm)) out.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) out.push(m[1]!);
  return out.filter((s) => !s.startsWith('.') && !s.startsWith('#') && !s.startsWith('/'));
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

const isBuiltin = (name: string) => name.startsWith('node:') || builtinModules.includes(name);

function undeclared(dirs: string[], declared: Set<string>): string[] {
  const missing: string[] = [];
  for (const dir of dirs)
    for (const file of sources(dir))
      for (const spec of staticImports(file)) {
        const name = packageName(spec);
        if (!isBuiltin(name) && !declared.has(name)) missing.push(`${relative(ROOT, file)}: ${name}`);
      }
  return missing;
}

describe('dependencies', () => {
  it('keeps the emulators out of the runtime dependencies', () => {
    for (const name of EMULATORS) {
      expect(pkg.dependencies[name], name).toBeUndefined();
      expect(pkg.devDependencies[name], name).toBeDefined();
    }
  });

  it('product code (functions, shipper, bin) statically imports runtime dependencies only', () => {
    const runtime = new Set(Object.keys(pkg.dependencies));
    // Type-only imports of @types packages vanish at runtime.
    runtime.add('aws-lambda');
    expect(undeclared(['functions', 'shipper', 'bin'], runtime)).toEqual([]);
  });

  it('tests, benches, scripts and infra import declared packages only', () => {
    const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.devDependencies)]);
    declared.add('aws-lambda');
    expect(undeclared(['test', 'bench', 'scripts', 'infra'], declared)).toEqual([]);
  });

  it('the sandbox says what to do when an emulator is not installed', async () => {
    const missing = Object.assign(new Error("Cannot find package 'fauxqs'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(importEmulator('fauxqs', () => Promise.reject(missing))).rejects.toThrow(
      /fauxqs is a development dependency.*npm ci/s,
    );
    const other = new Error('boom');
    await expect(importEmulator('dynalite', () => Promise.reject(other))).rejects.toBe(other);
  });
});
