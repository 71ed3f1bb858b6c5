/**
 * listmonk provider (docs/providers.md "listmonk"). `mode: bounce` (default) posts each hard bounce,
 * counted soft bounce and complaint to listmonk's bounce webhook, so listmonk applies its own
 * bounce settings (blocklist, unsubscribe, delete after N); `mode: unsubscribe` unsubscribes or
 * blocklists through the subscribers API. Unsubscribe requests (mailto, plain lists) always use the
 * subscribers API: listmonk has no bounce type for them.
 */
import { z } from 'zod';
import { providerBaseSchema } from '#core/config-schema.ts';
import { ProviderError } from '#core/errors.ts';
import type { SubscriberRef } from '#core/mail-event.ts';
import {
  type ActionContext,
  type CredentialCheck,
  ListOutcome,
  type ListProvider,
  type ListResult,
  type ProviderResult,
} from '#core/ports.ts';
import type { CallTally } from '../provider-call-policy.ts';
import type { ProviderDefinition, ProviderDeps } from '../provider-definition.ts';
import { apiBasics, oneListResult } from '../provider-result.ts';
import {
  createListmonkApi,
  type ListmonkApi,
  type ListmonkBounce,
  type ListmonkSubscriber,
} from './listmonk-api.ts';

const listmonkConfigSchema = providerBaseSchema
  .extend({
    type: z.literal('listmonk'),
    /** The instance root, e.g. https://listmonk.example.com */
    url: z.url({ protocol: /^https?$/ }),
    /** API user (Admin → Users, v4+); the admin login on v2/v3. */
    username: z.string().min(1),
    /** That API user's token (v2/v3: the admin password). */
    token: z.string().min(1),
    auth: z.enum(['basic', 'token']).default('basic'),
    mode: z.enum(['bounce', 'unsubscribe']).default('bounce'),
    /** What the subscribers API does: unsubscribe from every list, or blocklist (global). */
    unsubscribeAs: z.enum(['unsubscribe', 'blocklist']).default('unsubscribe'),
    lookup: z.enum(['search', 'query']).default('search'),
    /** `source` of the bounces posted (shown in listmonk's Bounces page). */
    source: z.string().min(1).max(100).default('pmta-bounce'),
  })
  .strict();
type ListmonkConfig = z.infer<typeof listmonkConfigSchema>;

const CAMPAIGN_JOB_ID = /^(?:listmonk-)?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;
const CHECK_ADDRESS = 'pmta-bounce-check@example.invalid';

/** The campaign uuid when the job id is one (`<uuid>` or `listmonk-<uuid>`). */
function campaignUuidFromJobId(jobId: string | undefined): string | undefined {
  return jobId ? CAMPAIGN_JOB_ID.exec(jobId)?.[1]?.toLowerCase() : undefined;
}

function bounceMeta(context: ActionContext): Record<string, string> {
  return {
    action_id: context.actionId,
    reason: context.reason.slice(0, 500),
    ...(context.category ? { category: context.category } : {}),
    ...(context.rule ? { rule: context.rule } : {}),
    ...(context.jobId ? { job_id: context.jobId } : {}),
  };
}

function isActive(subscriber: ListmonkSubscriber, listStatus: string): boolean {
  return subscriber.status !== 'blocklisted' && listStatus !== 'unsubscribed';
}

class ListmonkListProvider implements ListProvider {
  readonly id: string;
  readonly type = 'listmonk';
  readonly #config: ListmonkConfig;
  readonly #api: ListmonkApi;

  constructor(config: ListmonkConfig, deps: ProviderDeps) {
    this.id = config.id;
    this.#config = config;
    this.#api = createListmonkApi({
      ...apiBasics(config, deps),
      username: config.username,
      token: config.token,
      auth: config.auth,
      lookup: config.lookup,
    });
  }

  async unsubscribeEverywhere(email: string, context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const subscriber = await this.#api.findByEmail(tally, email);
    if (!subscriber) return { provider: this.id, lists: [], calls: tally.calls };
    const posts = this.#config.mode === 'bounce' && context.kind !== 'unsubscribe';
    const changed = posts
      ? await this.#postBounce(tally, subscriber, context)
      : await this.#unsubscribe(tally, subscriber);
    const lists: ListResult[] = subscriber.lists.map((l) => ({
      listId: l.listId,
      ...(l.listName ? { listName: l.listName } : {}),
      outcome: changed && isActive(subscriber, l.status) ? ListOutcome.done : ListOutcome.already,
    }));
    // A subscriber on no list still had a bounce recorded (or was already blocklisted).
    if (lists.length === 0)
      lists.push({ listId: '*', outcome: changed ? ListOutcome.done : ListOutcome.already });
    return { provider: this.id, lists, calls: tally.calls };
  }

  async unsubscribeFromList(ref: SubscriberRef, _context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const result = (outcome: ListOutcome): ProviderResult =>
      oneListResult(this.id, ref.listId, outcome, tally);
    const subscriber = await this.#api.getSubscriber(tally, ref.subscriberId);
    const list = subscriber?.lists.find((l) => l.listId === ref.listId);
    if (!subscriber || !list) return result(ListOutcome.notFound);
    if (!isActive(subscriber, list.status)) return result(ListOutcome.already);
    await this.#api.unsubscribeLists(tally, subscriber.id, [list.listId]);
    return result(ListOutcome.done);
  }

  async checkCredentials(): Promise<CredentialCheck> {
    const tally: CallTally = { calls: 0 };
    try {
      await this.#api.findByEmail(tally, CHECK_ADDRESS);
      if (this.#config.mode === 'unsubscribe') return { ok: true, detail: 'API user accepted' };
      const probe = await this.#api.probeBounceWebhook(tally);
      if (probe === 'bounces-disabled') {
        return { ok: false, detail: 'bounce processing is disabled in listmonk (503): Settings → Bounces' };
      }
      if (probe === 'webhooks-disabled') {
        return { ok: false, detail: 'the bounce webhook is disabled in listmonk (404): Settings → Bounces' };
      }
      await this.#api.canReadBounces(tally);
      return { ok: true, detail: 'API user accepted; bounce webhook enabled' };
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      const hint = error.status === 404 ? ' (url must be the instance root, without /api)' : '';
      return { ok: false, detail: `${error.message}${hint}` };
    }
  }

  /** Posts the bounce once per action: an earlier post with this action id counts as done. */
  async #postBounce(
    tally: CallTally,
    subscriber: ListmonkSubscriber,
    context: ActionContext,
  ): Promise<boolean> {
    // listmonk records nothing for a blocklisted subscriber.
    if (subscriber.status === 'blocklisted') return false;
    const posted = async () => (await this.#api.bounceActionIds(tally, subscriber.id)).has(context.actionId);
    if (await posted()) return true;
    const bounce: ListmonkBounce = {
      email: subscriber.email,
      type: context.kind === 'complaint' ? 'complaint' : (context.bounceType ?? 'hard'),
      source: this.#config.source,
      campaignUuid: campaignUuidFromJobId(context.jobId),
      meta: bounceMeta(context),
    };
    await this.#api.postBounce(tally, bounce, posted);
    return true;
  }

  async #unsubscribe(tally: CallTally, subscriber: ListmonkSubscriber): Promise<boolean> {
    const active = subscriber.lists.filter((l) => isActive(subscriber, l.status));
    if (this.#config.unsubscribeAs === 'blocklist') {
      if (subscriber.status === 'blocklisted') return false;
      await this.#api.blocklist(tally, subscriber.id);
      return true;
    }
    if (active.length === 0) return false;
    await this.#api.unsubscribeLists(
      tally,
      subscriber.id,
      active.map((l) => l.listId),
    );
    return true;
  }
}

const listmonkProvider: ProviderDefinition<ListmonkConfig> = {
  type: 'listmonk',
  configSchema: listmonkConfigSchema,
  secretKeys: ['token'],
  create: (config, deps) => new ListmonkListProvider(config, deps),
};

export type { ListmonkConfig };
export { campaignUuidFromJobId, ListmonkListProvider, listmonkConfigSchema, listmonkProvider };
