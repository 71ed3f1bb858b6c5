/**
 * A Standard Webhooks receiver fake: POST + application/json only, the signature recomputed over
 * the raw body, timestamps outside ±5 minutes refused, deliveries deduplicated on webhook-id (a
 * retried delivery is acknowledged without a second effect), and a small subscriber directory so
 * the answer can say done / already / not-found.
 */
import { webhookSignatureMatches } from '#providers/webhook/webhook-signature.ts';
import { FakeApiServer } from './fake-api-server.ts';
import type { FakeReply, FakeRequest } from './fake-http-server.ts';

interface FakeWebhookOptions {
  secret: string;
  path?: string;
  toleranceSeconds?: number;
  now?: () => number;
}

interface FakeWebhookSubscription {
  email: string;
  listId: string;
  subscriberId: string;
  active: boolean;
  changes: number;
}

interface WebhookEvent {
  type?: string;
  data?: { scope?: string; email?: string; listId?: string; subscriberId?: string };
}

const ENDPOINT = 'POST webhook';

function reply(status: number, value: unknown): FakeReply {
  return { status, headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) };
}

class FakeWebhookServer extends FakeApiServer<FakeWebhookOptions> {
  readonly subscriptions: FakeWebhookSubscription[] = [];
  /** webhook-id → the answer given, for deduplication. */
  readonly delivered = new Map<string, FakeReply>();
  /** webhook-ids seen per attempt, in order (stable-id assertions). */
  readonly attempts: string[] = [];
  /** Guardrail notices received (docs/guardrails.md), first delivery of each webhook-id. */
  readonly notices: Array<{ id: string; data: Record<string, unknown> }> = [];
  effects = 0;
  #next = 0;

  static async start(options: FakeWebhookOptions): Promise<FakeWebhookServer> {
    return new FakeWebhookServer(options).listen();
  }

  get path(): string {
    return this.options.path ?? '/hooks/suppress';
  }

  override get url(): string {
    return `${this.server.url}${this.path}`;
  }

  subscribe(email: string, listId = `list${++this.#next}`): FakeWebhookSubscription {
    const s = { email, listId, subscriberId: `sub${++this.#next}`, active: true, changes: 0 };
    this.subscriptions.push(s);
    return s;
  }

  mutatingRequests(): number {
    return this.server.count(ENDPOINT);
  }

  protected route(request: FakeRequest) {
    if (request.url.pathname !== this.path)
      return { endpoint: 'unrouted', run: () => reply(404, { error: 'no such hook' }) };
    return { endpoint: ENDPOINT, run: () => this.#receive(request) };
  }

  #receive(request: FakeRequest): FakeReply {
    if (request.method !== 'POST') return reply(405, { error: 'POST only' });
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json')) {
      return reply(415, { error: 'application/json only' });
    }
    const id = String(request.headers['webhook-id'] ?? '');
    const timestamp = String(request.headers['webhook-timestamp'] ?? '');
    const signature = String(request.headers['webhook-signature'] ?? '');
    if (!id || !/^\d+$/.test(timestamp) || !signature)
      return reply(400, { error: 'missing webhook headers' });
    const now = Math.floor((this.options.now ?? Date.now)() / 1000);
    if (Math.abs(now - Number(timestamp)) > (this.options.toleranceSeconds ?? 300)) {
      return reply(401, { error: 'timestamp outside tolerance' });
    }
    const input = { secret: this.options.secret, id, timestamp: Number(timestamp), body: request.body };
    if (!webhookSignatureMatches(input, signature)) return reply(401, { error: 'invalid signature' });
    this.attempts.push(id);
    const earlier = this.delivered.get(id);
    if (earlier) return earlier;
    let event: WebhookEvent;
    try {
      event = JSON.parse(request.body) as WebhookEvent;
    } catch {
      return reply(400, { error: 'invalid JSON' });
    }
    if (event.type === 'guardrail.tripped')
      this.notices.push({ id, data: (event.data ?? {}) as Record<string, unknown> });
    const answer = event.type === 'guardrail.tripped' ? reply(200, { ok: true }) : this.#apply(event);
    this.delivered.set(id, answer);
    return answer;
  }

  #apply(event: WebhookEvent): FakeReply {
    if (event.type === 'webhook.test') return reply(200, { ok: true });
    if (event.type !== 'subscriber.unsubscribed') return reply(400, { error: 'unknown event type' });
    const data = event.data ?? {};
    const matches =
      data.scope === 'list'
        ? this.subscriptions.filter((s) => s.listId === data.listId && s.subscriberId === data.subscriberId)
        : this.subscriptions.filter((s) => s.email.toLowerCase() === String(data.email ?? '').toLowerCase());
    if (matches.length === 0) return reply(200, { outcome: 'not-found' });
    const active = matches.filter((s) => s.active);
    for (const s of active) {
      s.active = false;
      s.changes += 1;
      this.effects += 1;
    }
    return reply(200, { outcome: active.length > 0 ? 'done' : 'already' });
  }
}

export type { FakeWebhookOptions, FakeWebhookSubscription };
export { FakeWebhookServer };
