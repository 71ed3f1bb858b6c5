/**
 * The CDK app reads the same config file as local mode: the example synthesizes, an invalid file
 * stops synth with the key path. In-process first (fast), then the real CLI once each way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/core/errors.ts';
import { buildBounceHandlerApp } from '../../infra/bounce-handler-app.ts';
import { PROJECT_ROOT } from '../../infra/bounce-handler-stack.ts';
import { CONFIG_JSON_LIMIT_BYTES, PLACEHOLDER_VALUE, parseStackConfig } from '../../infra/config.ts';
import { actTimeout } from '../../infra/constructs/act-function.ts';

const FIXTURES = join(PROJECT_ROOT, 'test/infra/fixtures');
const FIXTURE_HANDLER = 'test/infra/fixtures/noop-handler.ts';
const EXAMPLE = 'pmta-bounce.config.example.yaml';

const outDirs: string[] = [];
afterAll(() => {
  for (const d of outDirs) rmSync(d, { recursive: true, force: true });
});

function cdkSynth(configPath: string) {
  const outDir = mkdtempSync(join(tmpdir(), 'pmta-bounce-cdk-'));
  outDirs.push(outDir);
  const result = spawnSync(
    'npx',
    ['--no-install', 'cdk', 'synth', '--no-notices', '-q', '-c', `config=${configPath}`, '-o', outDir],
    {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true', PMTA_BOUNCE_CONFIG: '' },
      timeout: 120_000,
    },
  );
  return { ...result, outDir };
}

describe('config → stack props', () => {
  it('validates with placeholders and keeps $NAME placeholders in the JSON', () => {
    const text = `providers:\n  - { id: mw, type: mailwizz, url: https://mw.example.com/api, apiKey: "\${MW_KEY}" }\n`;
    const parsed = parseStackConfig(text, 'inline');
    expect(parsed.secretNames).toEqual(['MW_KEY']);
    expect(JSON.parse(parsed.configJson).providers[0].apiKey).toBe('$' + '{MW_KEY}');
    expect(parsed.configJson).not.toContain(PLACEHOLDER_VALUE);
  });

  it.each([
    { case: 'invalid value', file: 'invalid.config.yaml', message: /providers\[0\]\.url/ },
    {
      case: 'literal credential',
      file: 'literal-secret.config.yaml',
      message: /providers\[0\]\.apiKey.*literal/,
    },
  ])('refuses a config with a $case, naming the key', ({ file, message }) => {
    const app = new App();
    expect(() =>
      buildBounceHandlerApp(app, { configPath: join(FIXTURES, file), handlerEntryOverride: FIXTURE_HANDLER }),
    ).toThrow(message);
    expect(() => buildBounceHandlerApp(new App(), { configPath: join(FIXTURES, file) })).toThrow(ConfigError);
  });

  it('refuses unknown keys, bad YAML, a missing file and a config too large for Lambda env', () => {
    expect(() => parseStackConfig('alarms: { emial: a@b.co }\n', 'x')).toThrow(/alarms.*emial/);
    expect(() => parseStackConfig('providers: [\n', 'x')).toThrow(/not valid YAML/);
    expect(() => buildBounceHandlerApp(new App(), { configPath: join(FIXTURES, 'nope.yaml') })).toThrow(
      /cannot read/,
    );
    const big = `unsubscribe:\n  domains: [${Array.from({ length: 200 }, (_, i) => `d${i}.example.com`).join(', ')}]\n`;
    expect(big.length).toBeGreaterThan(CONFIG_JSON_LIMIT_BYTES);
    expect(() => parseStackConfig(big, 'x')).toThrow(/Lambda allows/);
  });

  it.each([
    { case: 'no provider', providers: [], seconds: 60 },
    { case: 'defaults', providers: [{ timeoutMs: 10_000, maxRetries: 4 }], seconds: 130 },
    { case: 'slow provider', providers: [{ timeoutMs: 120_000, maxRetries: 10 }], seconds: 900 },
  ])('act timeout with $case: $seconds s', ({ providers, seconds }) => {
    expect(actTimeout({ providers } as never).toSeconds()).toBe(seconds);
  });

  it('the smallest config deploys no unsub, no notify and no provider alarm', () => {
    const app = new App();
    const stack = buildBounceHandlerApp(app, {
      configPath: join(FIXTURES, 'minimal.config.yaml'),
      stackName: 'PmtaBounceMinimal',
      handlerEntryOverride: FIXTURE_HANDLER,
    });
    const template = Template.fromStack(stack); // nag runs here too
    template.resourceCountIs('AWS::Lambda::Function', 2);
    template.resourceCountIs('AWS::SES::ReceiptRuleSet', 0);
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.resourceCountIs('AWS::SNS::Subscription', 0);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7); // 2 DLQ, 2 age, no records, 2 function errors
    template.hasOutput('ProviderSecretKeys', { Value: '(none)' });
  });
});

describe('cdk CLI', () => {
  it('synthesizes the example config offline', { timeout: 150_000 }, () => {
    const r = cdkSynth(EXAMPLE);
    expect(r.stderr).not.toMatch(/invalid configuration|Error/);
    expect(r.status, r.stderr).toBe(0);
  });

  it('fails on an invalid config with a clear message and no bundling', { timeout: 60_000 }, () => {
    const r = cdkSynth('test/infra/fixtures/invalid.config.yaml');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('pmta-bounce: invalid configuration: providers[0].url');
    expect(r.stderr).not.toContain('Bundling');
  });
});
