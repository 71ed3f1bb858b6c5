import { afterEach, describe, expect, it } from 'vitest';
import { ProviderError } from '#core/errors.ts';
import { webhookConfigSchema, webhookProvider } from '#providers/webhook/webhook.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { recordingDeps } from '#test/contract/list-provider-contract.ts';

const SECRET = `whsec_${Buffer.from('fake-webhook-secret-for-tests-only').toString('base64')}`;
const ctx = { actionId: 'act_42', kind: 'complaint' as const, reason: 'feedback-loop abuse' };

let fake: FakeWebhookServer;
afterEach(() => fake?.close());

function provider(deps = recordingDeps()) {
  return webhookProvider.create(
    webhookConfigSchema.parse({ id: 'crm', type: 'webhook', url: fake.url, secret: SECRET }),
    deps,
  );
}

describe('webhook provider', () => {
  it('keeps webhook-id = actionId across retries, so the receiver applies it once', async () => {
    fake = await FakeWebhookServer.start({ secret: SECRET });
    const s = fake.subscribe('a@example.com');
    fake.http.inject({ phase: 'after', status: 503, times: 2 });
    const result = await provider().unsubscribeEverywhere('a@example.com', ctx);
    expect(result.lists).toEqual([{ listId: '*', outcome: 'done' }]);
    expect(result.calls).toBe(3);
    expect(fake.attempts).toEqual(['act_42', 'act_42', 'act_42']);
    expect(s.changes).toBe(1);
  });

  it('sends the action as JSON with scope and context', async () => {
    fake = await FakeWebhookServer.start({ secret: SECRET });
    let sent: Record<string, unknown> | undefined;
    const deps = recordingDeps();
    const spy: typeof fetch = (input, init) => {
      sent = JSON.parse(String(init?.body)) as Record<string, unknown>;
      return fetch(input, init);
    };
    await provider({ ...deps, fetch: spy }).unsubscribeFromList(
      { providerType: 'mailwizz', listId: 'ab123cd45ef67', subscriberId: 'cd456ef78ab90' },
      { ...ctx, occurredAt: Date.parse('2026-01-01T00:00:00Z'), jobId: 'mailwizz-ef789ab12cd34' },
    );
    expect(sent).toEqual({
      type: 'subscriber.unsubscribed',
      timestamp: '2026-01-01T00:00:00.000Z',
      data: {
        scope: 'list',
        providerType: 'mailwizz',
        listId: 'ab123cd45ef67',
        subscriberId: 'cd456ef78ab90',
        actionId: 'act_42',
        kind: 'complaint',
        reason: 'feedback-loop abuse',
        jobId: 'mailwizz-ef789ab12cd34',
      },
    });
  });

  it.each([
    { case: 'a stale timestamp (clock skew)', skewMs: -10 * 60 * 1000, kind: 'auth' },
    { case: 'a timestamp from the future', skewMs: 10 * 60 * 1000, kind: 'auth' },
  ])('is refused for $case', async ({ skewMs, kind }) => {
    fake = await FakeWebhookServer.start({ secret: SECRET });
    const deps = { ...recordingDeps(), now: () => Date.now() + skewMs };
    const error = await provider(deps)
      .unsubscribeEverywhere('a@example.com', ctx)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderError);
    expect((error as ProviderError).kind).toBe(kind);
  });

  it('treats 410 Gone as permanent', async () => {
    fake = await FakeWebhookServer.start({ secret: SECRET });
    fake.http.inject({ status: 410 });
    const error = (await provider()
      .unsubscribeEverywhere('a@example.com', ctx)
      .catch((e: unknown) => e)) as ProviderError;
    expect(error.kind).toBe('permanent');
    expect(fake.http.totalRequests()).toBe(1);
  });

  it.each([
    { secret: SECRET, ok: true },
    { secret: 'whsec_c2hvcnQ=', ok: false },
    { secret: 'not base64!', ok: false },
  ])('validates the secret $secret', ({ secret, ok }) => {
    const parsed = webhookConfigSchema.safeParse({
      id: 'crm',
      type: 'webhook',
      url: 'https://crm.example.com/h',
      secret,
    });
    expect(parsed.success).toBe(ok);
  });
});
