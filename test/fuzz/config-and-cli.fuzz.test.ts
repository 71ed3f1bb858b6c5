/**
 * The configuration loader and the CLI's argument handling under generated input. The loader
 * returns a Config or throws a ConfigError naming a key path (or `(file)` / `(root)`) and a reason;
 * no value from the environment (the canary stands in for every credential) is ever echoed. The
 * CLI (in-process, through main) always ends with an exit code, never an exception; a usage or
 * configuration error says something on stderr.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { parseConfigText } from '#cli/config-file.ts';
import { main } from '#cli/main.ts';
import { ConfigError } from '#core/errors.ts';
import { CANARY, canaryHits } from '../security/canary.ts';
import { runs, timeoutFor } from './fuzz-runs.ts';

const ENV = { MW_KEY: CANARY, TOKEN: CANARY, HOOK: CANARY, EMPTY: '' };
const PATH = /^(\(file\)|\(root\)|[A-Za-z_][\w-]*(\[\d+\]|\.[\w-]+)*): \S/;

function load(text: string): void {
  // The YAML library reports unknown tags as process warnings: not what this test looks at.
  const quiet = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
  try {
    parseConfigText(text, ENV, 'fuzz.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(PATH);
    expect(canaryHits(message)).toEqual([]);
  } finally {
    quiet.mockRestore();
  }
}

/** Values that land anywhere in the document, credentials included. */
const leaf = fc.oneof(
  fc.constantFrom(
    '${MW_KEY}',
    'x${TOKEN}y',
    'whsec_${HOOK}',
    '${MISSING}',
    '${EMPTY}',
    '$${MW_KEY}',
    '${',
    'https://x.example/api',
  ),
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
);
const keys = fc.constantFrom(
  'providers',
  'policy',
  'unsubscribe',
  'notify',
  'accounting',
  'alarms',
  'id',
  'type',
  'url',
  'apiKey',
  'privateKey',
  'token',
  'username',
  'secret',
  'senders',
  'hardCategories',
  'soft',
  'threshold',
  'windowDays',
  'categories',
  'complaints',
  'domains',
  'fields',
  'timeoutMs',
  'concurrency',
  '__proto__',
  'constructor',
  'treshold',
);
const { tree } = fc.letrec((tie) => ({
  tree: fc.oneof(
    { depthSize: 'small' },
    leaf,
    fc.array(tie('tree'), { maxLength: 3 }),
    fc.dictionary(keys, tie('tree'), { maxKeys: 4 }),
  ),
}));
const provider = fc.record(
  {
    id: fc.oneof(fc.constant('p1'), fc.string({ maxLength: 5 })),
    type: fc.constantFrom('mailwizz', 'interspire', 'webhook', 'other'),
    url: fc.oneof(fc.constant('https://x.example/api'), leaf),
    apiKey: leaf,
    token: leaf,
    username: leaf,
    secret: leaf,
    timeoutMs: leaf,
  },
  { requiredKeys: ['type'] },
);
const document = fc.record(
  {
    providers: fc.oneof(fc.array(provider, { maxLength: 3 }), tree),
    policy: tree,
    unsubscribe: tree,
    accounting: tree,
    extra: tree,
  },
  { requiredKeys: [] },
);

const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-fuzz-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('configuration loader: fuzz', () => {
  const n = runs();
  it(
    'any text: a Config, or a ConfigError naming where and why, never echoing a credential',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 100 })),
          load,
        ),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it(
    'documents of the right shape with wrong parts (YAML and JSON)',
    () => {
      fc.assert(
        fc.property(document, fc.boolean(), (doc, json) => {
          load(json ? JSON.stringify(doc) : stringify(doc));
        }),
        { numRuns: n },
      );
    },
    timeoutFor(n),
  );

  it('an alias bomb is refused quickly', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i < 12; i += 1)
      bomb.push(
        `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(96 + i)}`)
          .join(', ')}]`,
      );
    const started = Date.now();
    expect(() => parseConfigText(bomb.join('\n'), ENV)).toThrow(ConfigError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('CLI arguments: fuzz', () => {
  // Relative paths (`-` as a report name, a default state file) land in the temp dir, not the repo.
  const cwd = process.cwd();
  beforeAll(() => process.chdir(dir));
  afterAll(() => process.chdir(cwd));
  mkdirSync(join(dir, 'exists'), { recursive: true });
  const input = join(dir, 'in.csv');
  writeFileSync(input, 'type,rcpt,bounceCat\nb,a@example.com,bad-mailbox\nzz,x\n');
  const config = join(dir, 'good.yaml');
  writeFileSync(config, 'policy: { complaints: ignore }\n');
  const broken = join(dir, 'broken.yaml');
  writeFileSync(broken, 'policy: { treshold: 1 }\n');
  // Every path an option can get is inside the temp dir (or does not exist): a fuzz run never
  // writes into the repository. Commands that start servers or read mail (sandbox, redrive,
  // unsub) are left to their own tests.
  const pathValue = fc.constantFrom(
    input,
    config,
    broken,
    join(dir, 'state.db'),
    join(dir, 'report.jsonl'),
    join(dir, 'missing', 'deeper', 'x'),
    join(dir, 'exists'),
    '-',
    '',
  );
  const token = fc.oneof(
    fc.constantFrom(
      '--config',
      '--state',
      '--report',
      '--json',
      '--dry-run',
      '--debug',
      '--help',
      '-h',
      '--',
      '-',
      '--bogus',
      '--json=1',
      '-x',
    ),
    pathValue,
    pathValue.map((p) => `--logfile=${p}`),
    pathValue.map((p) => `--report=${p}`),
    fc.constantFrom('a@example.com', 'ref:mailwizz:l:s', 'status', 'check'),
    fc.string({ maxLength: 10 }).map((s) => join(dir, 'nx', s)),
  );
  const argv = fc.tuple(
    fc.constantFrom('process', 'status', 'check', 'help', '--help', 'bogus', ''),
    fc.array(token, { maxLength: 6 }),
  );
  const n = runs(0.25);

  it(
    'any argument list: an exit code (0, 2 or 3), never a throw; errors are explained on stderr',
    async () => {
      await fc.assert(
        fc.asyncProperty(argv, async ([command, rest]) => {
          const out = new PassThrough();
          const err = new PassThrough();
          let stderr = '';
          let stdout = '';
          out.on('data', (d) => {
            stdout += d;
          });
          err.on('data', (d) => {
            stderr += d;
          });
          const args = command ? [command, ...rest] : rest;
          const code = await main(args, {
            stdin: Readable.from(['b,1764000000,n@example.com,c@example.com,5.1.1,bad-mailbox\n']),
            stdout: out,
            stderr: err,
            env: { PMTA_BOUNCE_STATE: join(dir, 'state.db'), PMTA_BOUNCE_CONFIG: '' },
            now: () => 1_764_000_000_000,
          });
          expect([0, 2, 3]).toContain(code);
          if (code === 2) expect(stderr.length + stdout.length).toBeGreaterThan(0);
        }),
        { numRuns: n },
      );
    },
    timeoutFor(n, 40),
  );
});
