/**
 * MailWizz undo (`pmta-bounce undo`): one search finds the address's subscriptions; each list this
 * product changed that is still in the state we left it (unsubscribed or blacklisted) gets its
 * previous status back through the subscriber update (`details[status]`, required fields resent).
 * A list in any other state was changed since (by the subscriber or an admin): left alone. An
 * address in MailWizz's email blacklist (a campaign bounce) cannot be restored through the API.
 */
import { ListOutcome, type ListResult, type ProviderResult, type RestoreRequest } from '#core/ports.ts';
import type { CallTally } from '../provider-call-policy.ts';
import type { MailwizzApi } from './mailwizz-api.ts';

/** The statuses our unsubscribe or blacklist leaves behind. */
const LEFT_BY_US = new Set(['unsubscribed', 'blacklisted']);

async function restoreSubscriptions(
  api: MailwizzApi,
  providerId: string,
  email: string,
  lists: readonly RestoreRequest[],
): Promise<ProviderResult> {
  const tally: CallTally = { calls: 0 };
  const found = await api.searchAllLists(tally, email);
  const out: ListResult[] = [];
  for (const request of lists) {
    const subscription = found.find((s) => s.listUid === request.listId);
    const result = (outcome: ListOutcome) => out.push({ listId: request.listId, outcome });
    if (!subscription) result(ListOutcome.notFound);
    else if (!LEFT_BY_US.has(subscription.status)) result(ListOutcome.already);
    else {
      const record = await api.getSubscriber(tally, subscription.listUid, subscription.subscriberUid);
      if (!record) {
        result(ListOutcome.notFound);
        continue;
      }
      const status = request.previousStatus ?? 'confirmed';
      const answer = await api.setSubscriberStatus(tally, { ...subscription, email }, record.fields, status);
      result(
        answer === 'ok'
          ? ListOutcome.done
          : answer === 'not-found'
            ? ListOutcome.notFound
            : ListOutcome.manual,
      );
    }
  }
  return { provider: providerId, lists: out, calls: tally.calls };
}

export { restoreSubscriptions };
