/**
 * Interspire Email Marketer provider (xml.php). Unsubscribe everywhere = one GetSubscribers
 * (List=any, exact match kept client-side) + one UnsubscribeSubscriber per active subscription,
 * never twice for the same one, + optionally one AddBannedSubscriber (global suppression).
 * List names come from a paged list cache refreshed on an interval.
 */
import { z } from 'zod';
import { providerBaseSchema } from '#core/config-schema.ts';
import { ProviderError } from '#core/errors.ts';
import type { SubscriberRef } from '#core/mail-event.ts';
import {
  type ActionContext,
  type EmailLookup,
  ListOutcome,
  type ListProvider,
  type ListResult,
  type ProviderResult,
} from '#core/ports.ts';
import type { CallTally } from '../provider-call-policy.ts';
import type { ProviderDefinition, ProviderDeps } from '../provider-definition.ts';
import { apiBasics } from '../provider-result.ts';
import {
  createInterspireApi,
  type InterspireApi,
  type InterspireSubscription,
  subscriptionState,
} from './interspire-api.ts';

const interspireConfigSchema = providerBaseSchema
  .extend({
    type: z.literal('interspire'),
    /** The xml.php URL, e.g. https://iem.example.com/xml.php */
    url: z.url({ protocol: /^https?$/ }),
    username: z.string().min(1),
    /** The user's XML token (User Accounts → Edit User → "Enable the XML API"). */
    token: z.string().min(1),
    /** Also add the address to the global suppression list (AddBannedSubscriber listid=g). */
    globalBan: z.boolean().default(false),
    /** How often the list cache (ids → names) is refreshed. */
    listRefreshSeconds: z.number().int().min(10).max(86_400).default(3600),
    /** Lists fetched per GetLists page. */
    listPageSize: z.number().int().min(10).max(1000).default(100),
  })
  .strict();
type InterspireConfig = z.infer<typeof interspireConfigSchema>;

/** Bounds the list paging loop whatever the server answers. */
const MAX_LIST_PAGES = 1000;
/** An unknown list id triggers an early refresh, but not more often than this. */
const MIN_EARLY_REFRESH_MS = 60_000;
const GLOBAL_LIST = { listId: 'g', listName: 'global suppression list' } as const;

class InterspireListProvider implements ListProvider {
  readonly id: string;
  readonly type = 'interspire';
  readonly #api: InterspireApi;
  readonly #config: InterspireConfig;
  readonly #now: () => number;
  readonly #log: ProviderDeps['log'];
  #lists: Map<string, string> | undefined;
  #listsLoadedAt = 0;
  #refreshing: Promise<void> | undefined;

  constructor(config: InterspireConfig, deps: ProviderDeps) {
    this.id = config.id;
    this.#config = config;
    this.#now = deps.now;
    this.#log = deps.log;
    this.#api = createInterspireApi({
      ...apiBasics(config, deps),
      username: config.username,
      token: config.token,
    });
  }

  async unsubscribeEverywhere(email: string, _context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const found = await this.#api.findSubscriptions(tally, email);
    const unique = new Map<string, InterspireSubscription>();
    for (const s of found) unique.set(`${s.listId}/${s.subscriberId}`, s);
    const subscriptions = [...unique.values()];
    await this.#ensureLists(
      tally,
      subscriptions.map((s) => s.listId),
    );
    const settled = await Promise.allSettled(subscriptions.map((s) => this.#unsubscribeOne(tally, s)));
    const failure = settled.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    const lists = settled.map((r) => (r as PromiseFulfilledResult<ListResult>).value);
    if (this.#config.globalBan) {
      const ban = await this.#api.banGlobally(tally, email);
      lists.push({ ...GLOBAL_LIST, outcome: ban === 'added' ? ListOutcome.done : ListOutcome.already });
    }
    return { provider: this.id, lists, calls: tally.calls };
  }

  async unsubscribeFromList(ref: SubscriberRef, _context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const result = (list: ListResult): ProviderResult => ({
      provider: this.id,
      lists: [list],
      calls: tally.calls,
    });
    if (!/^\d+$/.test(ref.listId) || !/^\d+$/.test(ref.subscriberId)) {
      return result({ listId: ref.listId, outcome: ListOutcome.notFound });
    }
    const subscription = await this.#api.loadSubscription(tally, ref.subscriberId, ref.listId);
    if (!subscription) return result({ listId: ref.listId, outcome: ListOutcome.notFound });
    await this.#ensureLists(tally, [ref.listId]);
    return result(await this.#unsubscribeOne(tally, subscription));
  }

  /** `LoadSubscriberList` by subscriberid + listid: one call; undefined when unknown. */
  async findEmail(ref: SubscriberRef): Promise<EmailLookup> {
    const tally: CallTally = { calls: 0 };
    if (!/^\d+$/.test(ref.listId) || !/^\d+$/.test(ref.subscriberId)) return { email: undefined, calls: 0 };
    const subscription = await this.#api.loadSubscription(tally, ref.subscriberId, ref.listId);
    return { email: subscription?.email || undefined, calls: tally.calls };
  }

  async checkCredentials() {
    try {
      await this.#api.testToken({ calls: 0 });
      await this.#refreshLists({ calls: 0 });
      const count = this.#lists?.size ?? 0;
      return { ok: true, detail: `XML token accepted; ${count} list${count === 1 ? '' : 's'}` };
    } catch (error) {
      if (error instanceof ProviderError) return { ok: false, detail: error.message };
      throw error;
    }
  }

  async #unsubscribeOne(tally: CallTally, s: InterspireSubscription): Promise<ListResult> {
    const name = this.#lists?.get(s.listId);
    const base = { listId: s.listId, ...(name ? { listName: name } : {}) };
    // Only active subscriptions are touched: UnsubscribeSubscriber would count a second time. A
    // row that does not say (no `unsubscribed` column) is asked about first, never assumed active.
    const state = subscriptionState(s.unsubscribed);
    if (state === 'unsubscribed') return { ...base, outcome: ListOutcome.already };
    if (state === 'unknown' && (await this.#api.isUnsubscribed(tally, s)))
      return { ...base, outcome: ListOutcome.already };
    const outcome = await this.#api.unsubscribe(tally, s);
    return { ...base, outcome: outcome === 'done' ? ListOutcome.done : ListOutcome.notFound };
  }

  async #ensureLists(tally: CallTally, listIds: string[]): Promise<void> {
    const age = this.#now() - this.#listsLoadedAt;
    const stale = !this.#lists || age > this.#config.listRefreshSeconds * 1000;
    const unknown = listIds.some((id) => !this.#lists?.has(id)) && age > MIN_EARLY_REFRESH_MS;
    if (!stale && !unknown) return;
    try {
      await this.#refreshLists(tally);
    } catch (error) {
      // Names are for the audit only: an unsubscribe must not wait for them.
      if (!(error instanceof ProviderError) || error.kind === 'auth') throw error;
      this.#log({ provider: this.id, event: 'error', message: `list cache not refreshed: ${error.message}` });
    }
  }

  /** One refresh at a time; concurrent actions wait for the same one. */
  #refreshLists(tally: CallTally): Promise<void> {
    this.#refreshing ??= this.#loadAllLists(tally).finally(() => {
      this.#refreshing = undefined;
    });
    return this.#refreshing;
  }

  async #loadAllLists(tally: CallTally): Promise<void> {
    const size = this.#config.listPageSize;
    const lists = new Map<string, string>();
    for (let page = 0; page < MAX_LIST_PAGES; page += 1) {
      const items = await this.#api.listsPage(tally, page * size, size);
      for (const l of items) lists.set(l.listId, l.name);
      if (items.length < size) break;
    }
    this.#lists = lists;
    this.#listsLoadedAt = this.#now();
  }
}

const interspireProvider: ProviderDefinition<InterspireConfig> = {
  type: 'interspire',
  configSchema: interspireConfigSchema,
  secretKeys: ['token'],
  create: (config, deps) => new InterspireListProvider(config, deps),
};

export type { InterspireConfig };
export { InterspireListProvider, interspireConfigSchema, interspireProvider };
