/**
 * The Interspire Email Marketer xml.php calls this product needs (docs/provider-apis.md §2.2). Every
 * answer is HTTP 200 text/xml; success and failure live in <status>. `Unable to check user
 * details.` is a credential error.
 */
import { ProviderError, ProviderErrorKind } from '#core/errors.ts';
import {
  type CallTally,
  errorForStatus,
  type ProviderCallPolicy,
  type ProviderResponse,
} from '../provider-call-policy.ts';
import {
  buildIemRequest,
  childElement,
  childText,
  type IemResponse,
  parseIemResponse,
  type XmlValue,
} from './interspire-xml.ts';

interface InterspireApiOptions {
  providerId: string;
  url: string;
  username: string;
  token: string;
  policy: ProviderCallPolicy;
  now(): number;
}

interface InterspireSubscription {
  subscriberId: string;
  listId: string;
  email: string;
  /** '0' while subscribed, else the unsubscribe time (unix seconds). */
  unsubscribed: string;
}

interface InterspireList {
  listId: string;
  name: string;
}

const AUTH_FAILURE = 'Unable to check user details.';

function isSubscribed(unsubscribed: string): boolean {
  return unsubscribed === '' || unsubscribed === '0';
}

function createInterspireApi(options: InterspireApiOptions) {
  const { providerId, policy } = options;

  function interpret(response: ProviderResponse): IemResponse {
    const statusError = errorForStatus(providerId, response, options.now());
    if (statusError) throw statusError;
    const parsed = parseIemResponse(response.text);
    if (parsed.status === 'FAILED' && parsed.errorMessage === AUTH_FAILURE) {
      throw new ProviderError(providerId, ProviderErrorKind.auth, `credentials refused: ${AUTH_FAILURE}`);
    }
    return parsed;
  }

  function call(
    tally: CallTally,
    requestType: string,
    requestMethod: string,
    details: Record<string, XmlValue>,
    alreadyApplied?: () => Promise<IemResponse | undefined>,
  ): Promise<IemResponse> {
    return policy.send(
      tally,
      () => ({
        method: 'POST',
        url: options.url,
        headers: { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml' },
        body: buildIemRequest({
          username: options.username,
          token: options.token,
          requestType,
          requestMethod,
          details,
        }),
      }),
      interpret,
      alreadyApplied ? { alreadyApplied } : {},
    );
  }

  function failed(response: IemResponse, what: string): ProviderError {
    const detail = response.errorMessage ? `: ${response.errorMessage.slice(0, 200)}` : '';
    return new ProviderError(providerId, ProviderErrorKind.permanent, `${what} failed${detail}`);
  }

  async function isUnsubscribed(tally: CallTally, subscriberId: string, listId: string, email: string) {
    const response = await call(tally, 'subscribers', 'IsUnSubscriber', {
      emailaddress: email,
      subscriberid: subscriberId,
      listid: listId,
    });
    // FAILED with an empty message is IEM's "no" (a falsy return).
    return response.status === 'SUCCESS';
  }

  return {
    /** `authentication/xmlapitest`, both lowercase (the special case compares case-sensitively). */
    async testToken(tally: CallTally): Promise<void> {
      const response = await call(tally, 'authentication', 'xmlapitest', {});
      if (response.status !== 'SUCCESS') throw failed(response, 'token check');
    },

    /** `lists/GetLists` with paging; an empty page comes back as FAILED with an empty message. */
    async listsPage(tally: CallTally, start: number, perPage: number): Promise<InterspireList[]> {
      const response = await call(tally, 'lists', 'GetLists', { start, perpage: perPage });
      if (response.status === 'FAILED') {
        if (response.errorMessage === '') return [];
        throw failed(response, 'GetLists');
      }
      return (response.data?.children ?? [])
        .filter((c) => c.name === 'item')
        .map((item) => ({ listId: childText(item, 'listid') ?? '', name: childText(item, 'name') ?? '' }))
        .filter((l) => l.listId !== '');
    },

    /** `subscribers/GetSubscribers` List=any: a substring match, so exact matches are kept here. */
    async findSubscriptions(tally: CallTally, email: string): Promise<InterspireSubscription[]> {
      const response = await call(tally, 'subscribers', 'GetSubscribers', {
        searchinfo: { List: 'any', Email: email },
      });
      if (response.status === 'FAILED') {
        if (response.errorMessage === '') return [];
        throw failed(response, 'GetSubscribers');
      }
      const items = childElement(response.data, 'subscriberlist')?.children ?? [];
      const wanted = email.toLowerCase();
      return items
        .filter((item) => item.name === 'item')
        .map((item) => ({
          subscriberId: childText(item, 'subscriberid') ?? '',
          listId: childText(item, 'listid') ?? '',
          email: childText(item, 'emailaddress') ?? '',
          unsubscribed: childText(item, 'unsubscribed') ?? '',
        }))
        .filter((s) => s.subscriberId !== '' && s.listId !== '' && s.email.toLowerCase() === wanted);
    },

    /** `subscribers/LoadSubscriberList`: one subscription by ids, undefined when absent. */
    async loadSubscription(
      tally: CallTally,
      subscriberId: string,
      listId: string,
    ): Promise<InterspireSubscription | undefined> {
      const response = await call(tally, 'subscribers', 'LoadSubscriberList', {
        subscriberid: subscriberId,
        listid: listId,
        returnonly: 1,
        include_customfields: 0,
      });
      if (response.status === 'FAILED') {
        if (response.errorMessage === '') return undefined;
        throw failed(response, 'LoadSubscriberList');
      }
      return {
        subscriberId,
        listId,
        email: childText(response.data, 'emailaddress') ?? '',
        unsubscribed: childText(response.data, 'unsubscribed') ?? '',
      };
    },

    /**
     * `subscribers/UnsubscribeSubscriber`. Not idempotent (every call adds an unsubscribe row and
     * moves the counters), so before any retry we ask IsUnSubscriber whether a lost attempt landed.
     */
    async unsubscribe(tally: CallTally, s: InterspireSubscription): Promise<'done' | 'not-subscribed'> {
      const applied = async () =>
        (await isUnsubscribed(tally, s.subscriberId, s.listId, s.email))
          ? ({ status: 'SUCCESS', data: undefined, errorMessage: '' } as const)
          : undefined;
      const response = await call(
        tally,
        'subscribers',
        'UnsubscribeSubscriber',
        { emailaddress: s.email, listid: s.listId, subscriberid: s.subscriberId },
        applied,
      );
      if (response.status === 'SUCCESS') return 'done';
      if (/is not subscribed to this list/.test(response.errorMessage)) return 'not-subscribed';
      throw failed(response, 'UnsubscribeSubscriber');
    },

    /** `subscribers/AddBannedSubscriber` listid=g: the global suppression list. */
    async banGlobally(tally: CallTally, email: string): Promise<'added' | 'already'> {
      const response = await call(tally, 'subscribers', 'AddBannedSubscriber', {
        emailaddress: email,
        listid: 'g',
      });
      if (response.status === 'SUCCESS') return 'added';
      if (/already in the suppression list/i.test(response.errorMessage)) return 'already';
      throw failed(response, 'AddBannedSubscriber');
    },
  };
}

type InterspireApi = ReturnType<typeof createInterspireApi>;

export type { InterspireApi, InterspireList, InterspireSubscription };
export { createInterspireApi, isSubscribed };
