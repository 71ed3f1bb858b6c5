/**
 * The CDK app reads the same config file as local mode: the example synthesizes, an invalid file
 * stops synth with the key path. In-process first (fast), then the real CLI once each way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../functions/core/errors.ts';
import { buildBounceHandlerApp } from '../../infra/bounce-handler-app.ts';
import { PROJECT_ROOT } from '../../infra/bounce-handler-stack.ts';
import { CONFIG_JSON_LIMIT_BYTES, PLACEHOLDER_VALUE, parseStackConfig } from '../../infra/config.ts';
import { actTimeout } from '../../infra/constructs/act-function.ts';
import { checkReceivingRegion } from '../../infra/constructs/unsubscribe-mail.ts';

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
    { case: 'defaults', providers: [{ timeoutMs: 10_000, maxRetries: 4 }], seconds: 138 },
    { case: 'slow provider', providers: [{ timeoutMs: 120_000, maxRetries: 10 }], seconds: 900 },
  ])('act timeout with $case: $seconds s', ({ providers, seconds }) => {
    expect(actTimeout({ providers } as never).toSeconds()).toBe(seconds);
  });

  it.each([
    {
      case: 'an http:// provider URL',
      text: 'providers:\n  - { id: mw, type: mailwizz, url: "http://mw.example.com/api", apiKey: "${K}" }\n',
      message: /providers\[0\]\.url: must be https:\/\//,
    },
    {
      case: 'a literal webhook URL (it often carries a token)',
      text: 'providers:\n  - { id: h, type: webhook, url: "https://crm.example.com/hooks/t0k3n", secret: "${S}" }\n',
      message: /providers\[0\]\.url.*literal/,
    },
  ])('refuses $case, naming the key', ({ text, message }) => {
    expect(() => parseStackConfig(text, 'inline')).toThrow(message);
  });

  it('accepts http:// to loopback, or elsewhere with allowInsecureHttp: true', () => {
    for (const url of ['http://127.0.0.1:8080/api', 'http://localhost/api', 'http://[::1]/api']) {
      const text = `providers:\n  - { id: mw, type: mailwizz, url: "${url}", apiKey: "\${K}" }\n`;
      expect(parseStackConfig(text, 'inline').config.providers[0]!.url).toBe(url);
    }
    const insecure =
      'providers:\n  - { id: mw, type: mailwizz, url: "http://mw.lan/api", apiKey: "${K}", allowInsecureHttp: true }\n';
    expect(parseStackConfig(insecure, 'inline').config.providers).toHaveLength(1);
  });

  it('an existing table (aws.tableName) is used, granted and never created', { timeout: 120_000 }, () => {
    const app = new App();
    const stack = buildBounceHandlerApp(app, {
      configPath: join(FIXTURES, 'existing-table.config.yaml'),
      stackName: 'PmtaBounceExisting',
      handlerEntryOverride: FIXTURE_HANDLER,
    });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 0);
    template.resourceCountIs('AWS::DynamoDB::Table', 0);
    template.hasOutput('TableName', { Value: 'pmta-bounce-kept' });
    expect(JSON.stringify(template.toJSON())).toContain(':table/pmta-bounce-kept');
    for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
      expect(fn.Properties.Environment.Variables.PMTA_BOUNCE_TABLE).toBe('pmta-bounce-kept');
    }
  });

  it.each([
    { region: 'eu-west-1', warns: false },
    { region: 'eu-central-1', warns: true },
    { region: undefined, warns: true },
  ])('with unsubscribe.domains, synth checks SES receives mail in $region', ({ region, warns }) => {
    const stack = new Stack(new App(), 'RegionProbe', region ? { env: { region } } : {});
    checkReceivingRegion(stack, stack.region);
    const found = Annotations.fromStack(stack).findWarning(
      '*',
      Match.stringLikeRegexp('SES email receiving'),
    );
    expect(found.length > 0).toBe(warns);
  });

  it('the smallest config deploys no unsub, no notify and no provider alarm', { timeout: 120_000 }, () => {
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
    // 2 DLQ, 2 age, no records, 2 function errors; guardrails: complaint rate of `other` (warn,
    // critical) and blocks at 6 mailbox providers through `other` VirtualMTAs.
    template.resourceCountIs('AWS::CloudWatch::Alarm', 7 + 2 + 6);
    template.hasOutput('ProviderSecretKeys', { Value: '(none)' });
    // No long-lived shipper keys unless asked for (aws.shipperUser); the role stays.
    template.resourceCountIs('AWS::IAM::User', 0);
    template.resourceCountIs('AWS::IAM::InstanceProfile', 1);
    expect(Object.keys(template.toJSON().Outputs)).not.toContain('ShipperUserName');
    // Ingest is bounded by default.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ScalingConfig: { MaximumConcurrency: 10 },
      BatchSize: 1,
    });
    // No alarms.email: the synth says the alarms reach nobody.
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('no subscriber'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0]!.entry.data)).toContain('alarms.email');
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
