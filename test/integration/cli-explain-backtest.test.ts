/**
 * `pmta-bounce explain` and `pmta-bounce backtest` in-process, on the demo file and temp files.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';

const ROOT = join(import.meta.dirname, '../..');
const DEMO = join(ROOT, 'samples/demo-accounting.csv');
const dir = mkdtempSync(join(tmpdir(), 'pmta-bounce-explain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        append(String(chunk));
        cb();
      },
    });
  const code = await main(args, {
    stdin: Readable.from([]),
    stdout: sink((s) => {
      stdout += s;
    }),
    stderr: sink((s) => {
      stderr += s;
    }),
    env: { PMTA_BOUNCE_CONFIG: '' },
    now: () => 0,
  });
  return { code, stdout, stderr };
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('explain', () => {
  it('names the verdict and the rule (Microsoft 365 DBEB beats a policy-related bounceCat)', async () => {
    const out = await run([
      'explain',
      '550 5.4.1 Recipient address rejected: Access denied. AS(201806281)',
      '--category',
      'policy-related',
    ]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('verdict:  unsubscribe');
    expect(out.stdout).toContain('rule:     microsoft-dbeb (built-in, override)');
  });

  it('--json, with the status taken from the reply', async () => {
    const out = await run(['explain', 'smtp;550-5.1.8 Sender address rejected: Domain not found', '--json']);
    expect(JSON.parse(out.stdout)).toMatchObject({
      verdict: 'ignore',
      fault: 'sender-side',
      rule: 'sender-address-status',
      status: '5.1.8',
    });
  });

  it('an operator rule from the configuration is consulted first', async () => {
    const config = file(
      'config.yaml',
      'classification:\n  rules:\n    - id: local-quota\n      reply: "over quota"\n      category: bad-mailbox\n      fault: recipient-permanent\n',
    );
    const out = await run(['explain', '552 over quota', '--config', config, '--json']);
    expect(JSON.parse(out.stdout)).toMatchObject({
      verdict: 'unsubscribe',
      rule: 'local-quota',
      ruleOrigin: 'operator',
    });
  });

  it('a bad configured rule is a configuration error naming its key path', async () => {
    const config = file(
      'bad.yaml',
      'classification:\n  rules:\n    - id: x\n      reply: "(a+)+"\n      category: other\n      fault: ignore\n',
    );
    const out = await run(['explain', 'x', '--config', config]);
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('classification.rules[0].reply: unsafe or invalid pattern');
  });

  it('usage errors exit 2', async () => {
    expect((await run(['explain'])).code).toBe(2);
  });
});

describe('backtest', () => {
  const candidate = file(
    'candidate.yaml',
    'rules:\n  - id: hold-unknown-users\n    reply: user unknown\n    category: other\n    fault: ignore\n',
  );

  it('counts what the candidate changes, with example lines', async () => {
    const out = await run(['backtest', DEMO, '--rules', candidate, '--json']);
    expect(out.code).toBe(0);
    const summary = JSON.parse(out.stdout);
    expect(summary).toMatchObject({ records: 17, bounces: 10, changed: 2 });
    expect(summary.changes).toEqual([
      expect.objectContaining({ from: 'unsubscribe', to: 'ignore', count: 2, examples: expect.any(Array) }),
    ]);
    expect(summary.changes[0].examples[0]).toMatchObject({
      line: 2,
      before: 'pmta',
      after: 'hold-unknown-users',
    });
  });

  it('prints a readable summary', async () => {
    const out = await run(['backtest', DEMO, '--rules', candidate, '--examples', '1']);
    expect(out.stdout).toContain('unsubscribe → ignore: 2');
    expect(out.stdout.match(/demo-accounting\.csv:\d+/g)).toHaveLength(1);
  });

  it('a candidate with an unsafe pattern is refused with the file and key path', async () => {
    const bad = file(
      'bad-candidate.yaml',
      'rules:\n  - id: y\n    reply: "a.*b.*c"\n    category: other\n    fault: ignore\n',
    );
    const out = await run(['backtest', DEMO, '--rules', bad]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(
      /bad-candidate\.yaml: classification\.rules\[0\]\.reply: unsafe or invalid pattern/,
    );
  });

  it('needs --rules and readable files', async () => {
    expect((await run(['backtest', DEMO])).code).toBe(2);
    expect((await run(['backtest', join(dir, 'missing.csv'), '--rules', candidate])).code).toBe(2);
  });
});
