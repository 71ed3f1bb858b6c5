/**
 * An in-memory ListProvider for pipeline tests, held to the same contract suite as the real
 * adapters. Failures can be injected as the ProviderErrors a real adapter would throw.
 */
import { ProviderError, type ProviderErrorKind } from '#core/errors.ts';
import type { SubscriberRef } from '#core/mail-event.ts';
import {
  type ActionContext,
  type CredentialCheck,
  type EmailLookup,
  ListOutcome,
  type ListProvider,
  type ListResult,
  type ProviderResult,
} from '#core/ports.ts';

interface MemorySubscription {
  subscriberId: string;
  email: string;
  active: boolean;
  /** How many times this subscription was changed (exactly-once assertions). */
  changes: number;
}

interface MemoryCall {
  operation: 'unsubscribeEverywhere' | 'unsubscribeFromList' | 'findEmail' | 'checkCredentials';
  email?: string;
  ref?: SubscriberRef;
  context?: ActionContext;
}

class MemoryListProvider implements ListProvider {
  readonly id: string;
  readonly type: string;
  /** Every call received, in order. */
  readonly received: MemoryCall[] = [];
  credentialsValid = true;
  readonly #lists = new Map<string, { name: string; subscriptions: Map<string, MemorySubscription> }>();
  readonly #failures: ProviderErrorKind[] = [];
  #nextId = 0;

  constructor(options: { id?: string; type?: string } = {}) {
    this.id = options.id ?? 'memory';
    this.type = options.type ?? 'memory';
  }

  addList(listId: string, name = listId): void {
    if (!this.#lists.has(listId)) this.#lists.set(listId, { name, subscriptions: new Map() });
  }

  /** Subscribes an address (active) to a list, creating the list if needed. */
  addSubscriber(listId: string, email: string): SubscriberRef {
    this.addList(listId);
    this.#nextId += 1;
    const subscriberId = `s${this.#nextId}`;
    this.#lists
      .get(listId)!
      .subscriptions.set(subscriberId, { subscriberId, email, active: true, changes: 0 });
    return { providerType: this.type, listId, subscriberId };
  }

  subscription(ref: SubscriberRef): MemorySubscription | undefined {
    return this.#lists.get(ref.listId)?.subscriptions.get(ref.subscriberId);
  }

  isActive(ref: SubscriberRef): boolean {
    return this.subscription(ref)?.active ?? false;
  }

  /** Total state changes made. */
  effects(): number {
    let n = 0;
    for (const list of this.#lists.values()) for (const s of list.subscriptions.values()) n += s.changes;
    return n;
  }

  /** The next `times` operations throw a ProviderError of this kind. */
  failNext(kind: ProviderErrorKind, times = 1): void {
    for (let i = 0; i < times; i += 1) this.#failures.push(kind);
  }

  #maybeFail(): void {
    if (!this.credentialsValid) throw new ProviderError(this.id, 'auth', 'credentials refused');
    const kind = this.#failures.shift();
    if (kind) throw new ProviderError(this.id, kind, `injected ${kind} failure`);
  }

  #unsubscribe(listId: string, s: MemorySubscription): ListResult {
    const name = this.#lists.get(listId)?.name;
    const base = { listId, ...(name ? { listName: name } : {}) };
    if (!s.active) return { ...base, outcome: ListOutcome.already };
    s.active = false;
    s.changes += 1;
    return { ...base, outcome: ListOutcome.done };
  }

  async unsubscribeEverywhere(email: string, context: ActionContext): Promise<ProviderResult> {
    this.received.push({ operation: 'unsubscribeEverywhere', email, context });
    this.#maybeFail();
    const lists: ListResult[] = [];
    for (const [listId, list] of this.#lists) {
      for (const s of list.subscriptions.values()) {
        if (s.email.toLowerCase() === email.toLowerCase()) lists.push(this.#unsubscribe(listId, s));
      }
    }
    return { provider: this.id, lists, calls: 1 };
  }

  async unsubscribeFromList(ref: SubscriberRef, context: ActionContext): Promise<ProviderResult> {
    this.received.push({ operation: 'unsubscribeFromList', ref, context });
    this.#maybeFail();
    const s = this.subscription(ref);
    const lists = [
      s ? this.#unsubscribe(ref.listId, s) : { listId: ref.listId, outcome: ListOutcome.notFound },
    ];
    return { provider: this.id, lists, calls: 1 };
  }

  /** The subscriber's address by ids, as MailWizz's and Interspire's by-id lookups give it. */
  async findEmail(ref: SubscriberRef): Promise<EmailLookup> {
    this.received.push({ operation: 'findEmail', ref });
    this.#maybeFail();
    return { email: this.subscription(ref)?.email, calls: 1 };
  }

  async checkCredentials(): Promise<CredentialCheck> {
    this.received.push({ operation: 'checkCredentials' });
    return this.credentialsValid
      ? { ok: true, detail: `${this.#lists.size} lists` }
      : { ok: false, detail: `${this.id}: credentials refused` };
  }
}

export type { MemoryCall, MemorySubscription };
export { MemoryListProvider };
