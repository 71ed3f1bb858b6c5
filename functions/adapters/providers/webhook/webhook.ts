/**
 * Signed webhook provider ("plug in your own handler"): one Standard Webhooks JSON POST per action.
 * webhook-id is the action's id, so a retried delivery can be deduplicated by the receiver;
 * any 2xx is success. The receiver may answer `{"outcome":"done"|"already"|"not-found"}`.
 */
import { z } from 'zod';
import { providerBaseSchema } from '#core/config-schema.ts';
import { ProviderError, ProviderErrorKind } from '#core/errors.ts';
import type { SubscriberRef } from '#core/mail-event.ts';
import {
  type ActionContext,
  ListOutcome,
  type ListProvider,
  type ProviderResult,
  type RestoreRequest,
} from '#core/ports.ts';
import {
  type CallTally,
  createProviderCallPolicy,
  errorForStatus,
  type ProviderCallPolicy,
  type ProviderResponse,
} from '../provider-call-policy.ts';
import type { ProviderDefinition, ProviderDeps } from '../provider-definition.ts';
import { decodeWebhookSecret, signWebhook } from './webhook-signature.ts';

const webhookConfigSchema = providerBaseSchema
  .extend({
    type: z.literal('webhook'),
    url: z.url({ protocol: /^https?$/ }),
    /** Standard Webhooks secret: `whsec_` + base64 of 24–64 random bytes. */
    secret: z
      .string()
      .refine((s) => /^(whsec_)?[A-Za-z0-9+/]+={0,2}$/.test(s) && decodeWebhookSecret(s).length >= 16, {
        message: 'expected whsec_ followed by the base64 of at least 16 bytes',
      }),
  })
  .strict();
type WebhookConfig = z.infer<typeof webhookConfigSchema>;

const EVENT_TYPE = 'subscriber.unsubscribed';
/** `pmta-bounce undo`: the receiver should put back what the earlier events took off. */
const RESUBSCRIBE_TYPE = 'subscriber.resubscribe';
const OUTCOMES = new Set<string>(Object.values(ListOutcome));
/** Lists in results: `*` means "everywhere the receiver knows". */
const EVERYWHERE = '*';

function readOutcome(text: string): ListOutcome {
  try {
    const outcome = (JSON.parse(text) as { outcome?: unknown } | null)?.outcome;
    if (typeof outcome === 'string' && OUTCOMES.has(outcome)) return outcome as ListOutcome;
  } catch {
    // Any 2xx body is fine: the receiver need not answer JSON.
  }
  return ListOutcome.done;
}

function contextData(context: ActionContext): Record<string, unknown> {
  return {
    actionId: context.actionId,
    kind: context.kind,
    reason: context.reason,
    ...(context.category ? { category: context.category } : {}),
    ...(context.jobId ? { jobId: context.jobId } : {}),
    ...(context.diagnostic ? { diagnostic: context.diagnostic } : {}),
  };
}

class WebhookListProvider implements ListProvider {
  readonly id: string;
  readonly type = 'webhook';
  readonly #config: WebhookConfig;
  readonly #policy: ProviderCallPolicy;
  readonly #now: () => number;

  constructor(config: WebhookConfig, deps: ProviderDeps) {
    this.id = config.id;
    this.#config = config;
    this.#now = deps.now;
    this.#policy = createProviderCallPolicy(config.id, config, deps);
  }

  async unsubscribeEverywhere(email: string, context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const outcome = await this.#deliver(tally, context.actionId, {
      type: EVENT_TYPE,
      timestamp: new Date(context.occurredAt ?? this.#now()).toISOString(),
      data: { scope: 'everywhere', email, ...contextData(context) },
    });
    return { provider: this.id, lists: [{ listId: EVERYWHERE, outcome }], calls: tally.calls };
  }

  async unsubscribeFromList(ref: SubscriberRef, context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const outcome = await this.#deliver(tally, context.actionId, {
      type: EVENT_TYPE,
      timestamp: new Date(context.occurredAt ?? this.#now()).toISOString(),
      data: {
        scope: 'list',
        providerType: ref.providerType,
        listId: ref.listId,
        subscriberId: ref.subscriberId,
        ...(ref.campaignId ? { campaignId: ref.campaignId } : {}),
        ...contextData(context),
      },
    });
    return { provider: this.id, lists: [{ listId: ref.listId, outcome }], calls: tally.calls };
  }

  /** One signed `subscriber.resubscribe` event naming the lists (`*`: everywhere) to put back. */
  async resubscribe(
    email: string,
    lists: readonly RestoreRequest[],
    context: ActionContext,
  ): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const outcome = await this.#deliver(tally, context.actionId, {
      type: RESUBSCRIBE_TYPE,
      timestamp: new Date(this.#now()).toISOString(),
      data: { email, lists: lists.map((l) => l.listId), actionId: context.actionId, reason: context.reason },
    });
    return {
      provider: this.id,
      lists: lists.map((l) => ({ listId: l.listId, outcome })),
      calls: tally.calls,
    };
  }

  async checkCredentials() {
    try {
      const now = this.#now();
      await this.#deliver({ calls: 0 }, `check_${now}`, {
        type: 'webhook.test',
        timestamp: new Date(now).toISOString(),
        data: {},
      });
      return { ok: true, detail: 'endpoint accepted a signed test event' };
    } catch (error) {
      if (error instanceof ProviderError) return { ok: false, detail: error.message };
      throw error;
    }
  }

  /** One event; the body is fixed across retries, the timestamp and signature are per attempt. */
  #deliver(tally: CallTally, id: string, event: Record<string, unknown>): Promise<ListOutcome> {
    const body = JSON.stringify(event);
    return this.#policy.send(
      tally,
      () => {
        const timestamp = Math.floor(this.#now() / 1000);
        return {
          method: 'POST',
          url: this.#config.url,
          // The URL path itself may embed a token (many hook URLs do): never log it.
          logPath: '(webhook endpoint)',
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signWebhook({ secret: this.#config.secret, id, timestamp, body }),
          },
          body,
        };
      },
      (response) => this.#interpret(response),
    );
  }

  #interpret(response: ProviderResponse): ListOutcome {
    if (response.status === 410) {
      throw new ProviderError(
        this.id,
        ProviderErrorKind.permanent,
        'HTTP 410: the receiver disabled this endpoint',
        {
          status: 410,
        },
      );
    }
    const error = errorForStatus(this.id, response, this.#now());
    if (error) throw error;
    return readOutcome(response.text);
  }
}

const webhookProvider: ProviderDefinition<WebhookConfig> = {
  type: 'webhook',
  configSchema: webhookConfigSchema,
  // The URL too: hook URLs often embed a token (and logs never show it: see `logPath`).
  secretKeys: ['secret', 'url'],
  create: (config, deps) => new WebhookListProvider(config, deps),
};

export type { WebhookConfig };
export { WebhookListProvider, webhookConfigSchema, webhookProvider };
