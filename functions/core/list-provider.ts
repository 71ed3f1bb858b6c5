/**
 * The provider port: what every list manager adapter (MailWizz, Interspire, webhook, ...) offers.
 * Results are values per list so the audit can say exactly which lists changed.
 */

const ListOutcome = {
  /** The subscription was active and is now unsubscribed. */
  done: 'done',
  /** It was already unsubscribed (or blacklisted) before this call. */
  already: 'already',
  /** The address or subscriber does not exist there: nothing to do, counts as success. */
  notFound: 'not-found',
  /**
   * Undo only: the provider's API cannot put this subscription back (or something outside this
   * product blocks it); the operator must, by hand.
   */
  manual: 'manual',
} as const;
type ListOutcome = (typeof ListOutcome)[keyof typeof ListOutcome];

interface ListResult {
  listId: string;
  listName?: string;
  outcome: ListOutcome;
  /**
   * Optional: the subscription's status at the provider before this call (e.g. MailWizz
   * `confirmed`), so an undo can put it back exactly.
   */
  previousStatus?: string;
}

interface ProviderResult {
  provider: string;
  /** One entry per list looked at. Empty when the provider knows nothing of the address. */
  lists: ListResult[];
  /** HTTP requests this operation made (for the summary and benchmarks). */
  calls: number;
}

/** One subscription an undo puts back (core/suppressions/suppression-ledger.ts ChangedList). */
interface RestoreRequest {
  listId: string;
  /** The status before our unsubscribe, when the provider reported it. */
  previousStatus?: string | undefined;
}

/** Why we act: carried to the provider for its own records and to webhooks. */
interface ActionContext {
  /** Stable id of the action: the same across retries (webhook-id, idempotency key). */
  actionId: string;
  kind: 'bounce' | 'complaint' | 'unsubscribe';
  reason: string;
  category?: string;
  /** Bounces: the classification rule id (`pmta` when PowerMTA's bounceCat was trusted). */
  rule?: string;
  /** Bounces: a hard category, or a soft one whose count reached the policy threshold. */
  bounceType?: 'hard' | 'soft';
  /** The accounting record's jobId; `mailwizz-<campaign_uid>` names a MailWizz campaign. */
  jobId?: string;
  diagnostic?: string;
  /** When the event happened (ms since epoch), if known. */
  occurredAt?: number;
}

/** Identifies one subscription by the provider's own ids (mailto unsubscribes, anonymised complaints). */
interface SubscriberRef {
  /** Provider type these ids belong to (`mailwizz`, `interspire`). */
  providerType: string;
  listId: string;
  subscriberId: string;
  campaignId?: string;
}

/** A subscriber's address looked up by the provider's ids. */
interface EmailLookup {
  /** Undefined when the ids are unknown there, or the provider only shows a masked address. */
  email: string | undefined;
  /** HTTP requests the lookup made. */
  calls: number;
}

interface CredentialCheck {
  ok: boolean;
  /** Human detail without secrets, e.g. "API key accepted; 12 lists". */
  detail: string;
}

interface ListProvider {
  /** The configured id (`providers[].id`). */
  readonly id: string;
  /** The provider type (`mailwizz`, ...). */
  readonly type: string;
  /** Take the address off every list this provider has. */
  unsubscribeEverywhere(email: string, context: ActionContext): Promise<ProviderResult>;
  /** Take one subscription off one list, by the provider's ids. */
  unsubscribeFromList(ref: SubscriberRef, context: ActionContext): Promise<ProviderResult>;
  /**
   * Optional: the subscriber's address by this provider's ids, in one call. Lets a by-ids action
   * that policy wants applied everywhere (a complaint that hid its recipient) reach every list
   * and every provider (core/act/widen-action.ts).
   */
  findEmail?(ref: SubscriberRef): Promise<EmailLookup>;
  /**
   * Optional: put back subscriptions this product unsubscribed (`pmta-bounce undo`). Per list:
   * done (restored to its previous status), already (not in the state we left it: left alone),
   * not-found, or manual (the API cannot). Without it every list is listed as manual.
   */
  resubscribe?(
    email: string,
    lists: readonly RestoreRequest[],
    context: ActionContext,
  ): Promise<ProviderResult>;
  /** Verify credentials with the cheapest authenticated call. */
  checkCredentials(): Promise<CredentialCheck>;
}

export type {
  ActionContext,
  CredentialCheck,
  EmailLookup,
  ListProvider,
  ListResult,
  ProviderResult,
  RestoreRequest,
  SubscriberRef,
};
export { ListOutcome };
