/**
 * The one-click endpoint in the stack: unsub-http behind a public Function URL (its URL a stack
 * output), reserved concurrency, least privilege — the signing-key secret readable by unsub and
 * unsub-http only, the provider secret by act only, never by either unsub function —
 * and cdk-nag clean (the synth throws on a finding). The handlers are stand-ins: no bundling here.
 */
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV, TABLE_ACTIONS } from '#lambda/env.ts';
import { buildBounceHandlerApp } from '../../infra/bounce-handler-app.ts';
import { PROJECT_ROOT } from '../../infra/bounce-handler-stack.ts';

type Resource = { Type: string; Properties: Record<string, unknown> };
let template: Template;
let stack: Stack;

beforeAll(() => {
  const app = new App();
  stack = buildBounceHandlerApp(app, {
    configPath: join(PROJECT_ROOT, 'test/infra/fixtures/one-click.config.yaml'),
    stackName: 'PmtaBounceOneClick',
    handlerEntryOverride: 'test/infra/fixtures/noop-handler.ts',
  });
  template = Template.fromStack(stack);
});

function resources(type: string): Record<string, Resource> {
  return template.findResources(type) as Record<string, Resource>;
}

/** Logical id of the function whose description starts with `pmta-bounce NAME:`. */
function functionId(name: string): string {
  const [id] = Object.entries(resources('AWS::Lambda::Function')).find(([, f]) =>
    String(f.Properties.Description).startsWith(`pmta-bounce ${name}:`),
  )!;
  return id;
}

function roleOf(fnId: string): string {
  const role = resources('AWS::Lambda::Function')[fnId]!.Properties.Role as { 'Fn::GetAtt': string[] };
  return role['Fn::GetAtt'][0]!;
}

/** Secret logical ids the role's policies grant secretsmanager:GetSecretValue on. */
function secretsReadBy(fnId: string): string[] {
  const role = roleOf(fnId);
  const out = new Set<string>();
  for (const policy of Object.values(resources('AWS::IAM::Policy'))) {
    const roles = policy.Properties.Roles as Array<{ Ref: string }>;
    if (!roles.some((r) => r.Ref === role)) continue;
    const doc = policy.Properties.PolicyDocument as {
      Statement: Array<{ Action: string | string[]; Resource: unknown }>;
    };
    for (const st of doc.Statement) {
      const actions = ([] as string[]).concat(st.Action);
      if (!actions.includes('secretsmanager:GetSecretValue')) continue;
      out.add((st.Resource as { Ref: string }).Ref);
    }
  }
  return [...out].sort();
}

describe('one-click endpoint (unsub-http)', () => {
  it('a public Function URL (auth NONE: RFC 8058 POSTs carry no credentials) and its URL as an output', () => {
    const urls = Object.values(resources('AWS::Lambda::Url'));
    expect(urls).toHaveLength(1);
    expect(urls[0]!.Properties).toMatchObject({
      AuthType: 'NONE',
      TargetFunctionArn: { 'Fn::GetAtt': [functionId('unsub-http'), 'Arn'] },
    });
    expect(Object.keys(template.findOutputs('OneClickUrl'))).toHaveLength(1);
  });

  it('reserved concurrency caps a flood', () => {
    expect(
      resources('AWS::Lambda::Function')[functionId('unsub-http')]!.Properties.ReservedConcurrentExecutions,
    ).toBe(20);
  });

  it('the signing secret is read by unsub and unsub-http only; the provider secret never by them', () => {
    const secrets = Object.keys(resources('AWS::SecretsManager::Secret'));
    const signing = secrets.find((s) => s.startsWith('SigningSecret'))!;
    const provider = secrets.find((s) => s.startsWith('ProviderSecret'))!;
    expect(secretsReadBy(functionId('unsub-http'))).toEqual([signing]);
    expect(secretsReadBy(functionId('unsub'))).toEqual([signing]);
    expect(secretsReadBy(functionId('act'))).toEqual([provider]);
    expect(secretsReadBy(functionId('ingest'))).toEqual([]);
    const env = resources('AWS::Lambda::Function')[functionId('unsub-http')]!.Properties.Environment as {
      Variables: Record<string, unknown>;
    };
    expect(env.Variables[ENV.SIGNING_SECRET_ARN]).toEqual({ Ref: signing });
    expect(env.Variables[ENV.SECRET_ARN]).toBeUndefined();
  });

  it('unsub-http may write the table (exactly TABLE_ACTIONS) and send to the actions queue, nothing more', () => {
    const role = roleOf(functionId('unsub-http'));
    const actions = new Set<string>();
    const dynamo = new Set<string>();
    for (const policy of Object.values(resources('AWS::IAM::Policy'))) {
      if (!(policy.Properties.Roles as Array<{ Ref: string }>).some((r) => r.Ref === role)) continue;
      for (const st of (
        policy.Properties.PolicyDocument as { Statement: Array<{ Action: string | string[] }> }
      ).Statement)
        for (const a of ([] as string[]).concat(st.Action)) {
          actions.add(a.split(':')[0]!);
          if (a.startsWith('dynamodb:')) dynamo.add(a);
        }
    }
    expect([...actions].sort()).toEqual(['dynamodb', 'logs', 'secretsmanager', 'sqs']);
    expect([...dynamo].sort()).toEqual(TABLE_ACTIONS['unsub-http'].map((a) => `dynamodb:${a}`).sort());
  });
});
