/**
 * The Interspire Email Marketer xml.php calls this product needs (docs/provider-apis.md §2.2). Every
 * answer is HTTP 200 text/xml; success and failure live in <status>. `Unable to check user
 * details.` is a credential error. One named function per call; `createInterspireApi` binds them.
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
  type XmlElement,
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
  /** '0' while subscribed, else the unsubscribe time (unix seconds); undefined when not sent. */
  unsubscribed: string | undefined;
}

interface InterspireList {
  listId: string;
  name: string;
}

/** What a subscriber row says; `unknown` when the column is missing or not a number. */
type SubscriptionState = 'subscribed' | 'unsubscribed' | 'unknown';

const AUTH_FAILURE = 'Unable to check user details.';

function subscriptionState(unsubscribed: string | undefined): SubscriptionState {
  const value = unsubscribed?.trim() ?? '';
  if (value === '0') return 'subscribed';
  return /^[1-9]\d{0,15}$/.test(value) ? 'unsubscribed' : 'unknown';
}

/** One xml.php request through the provider's call policy, and the errors its answers make. */
interface IemCaller {
  call(
    tally: CallTally,
    requestType: string,
    requestMethod: string,
    details: Record<string, XmlValue>,
    alreadyApplied?: () => Promise<IemResponse | undefined>,
  ): Promise<IemResponse>;
  failed(response: IemResponse, what: string): ProviderError;
}

function createIemCaller(options: InterspireApiOptions): IemCaller {
  const { providerId, policy } = options;
  const interpret = (response: ProviderResponse): IemResponse => {
    const statusError = errorForStatus(providerId, response, options.now());
    if (statusError) throw statusError;
    const parsed = parseIemResponse(response.text);
    if (parsed.status === 'FAILED' && parsed.errorMessage === AUTH_FAILURE) {
      throw new ProviderError(providerId, ProviderErrorKind.auth, `credentials refused: ${AUTH_FAILURE}`);
    }
    return parsed;
  };
  return {
    call(tally, requestType, requestMethod, details, alreadyApplied) {
      const { username, token } = options;
      const build = () => ({
        method: 'POST' as const,
        url: options.url,
        headers: { 'content-type': 'text/xml; charset=utf-8', accept: 'text/xml' },
        body: buildIemRequest({ username, token, requestType, requestMethod, details }),
      });
      return policy.send(tally, build, interpret, alreadyApplied ? { alreadyApplied } : {});
    },
    failed(response, what) {
      const detail = response.errorMessage ? `: ${response.errorMessage.slice(0, 200)}` : '';
      return new ProviderError(providerId, ProviderErrorKind.permanent, `${what} failed${detail}`);
    },
  };
}

/** `authentication/xmlapitest`, both lowercase (the special case compares case-sensitively). */
async function testToken(iem: IemCaller, tally: CallTally): Promise<void> {
  const response = await iem.call(tally, 'authentication', 'xmlapitest', {});
  if (response.status !== 'SUCCESS') throw iem.failed(response, 'token check');
}

/** `lists/GetLists` with paging; an empty page comes back as FAILED with an empty message. */
async function listsPage(
  iem: IemCaller,
  tally: CallTally,
  start: number,
  perPage: number,
): Promise<InterspireList[]> {
  const response = await iem.call(tally, 'lists', 'GetLists', { start, perpage: perPage });
  if (response.status === 'FAILED') {
    if (response.errorMessage === '') return [];
    throw iem.failed(response, 'GetLists');
  }
  return (response.data?.children ?? [])
    .filter((c) => c.name === 'item')
    .map((item) => ({ listId: childText(item, 'listid') ?? '', name: childText(item, 'name') ?? '' }))
    .filter((l) => l.listId !== '');
}

function subscriptionFromItem(item: XmlElement | undefined): InterspireSubscription {
  return {
    subscriberId: childText(item, 'subscriberid') ?? '',
    listId: childText(item, 'listid') ?? '',
    email: childText(item, 'emailaddress') ?? '',
    unsubscribed: childText(item, 'unsubscribed'),
  };
}

/** `subscribers/GetSubscribers` List=any: a substring match, so exact matches are kept here. */
async function findSubscriptions(
  iem: IemCaller,
  tally: CallTally,
  email: string,
): Promise<InterspireSubscription[]> {
  const response = await iem.call(tally, 'subscribers', 'GetSubscribers', {
    searchinfo: { List: 'any', Email: email },
  });
  if (response.status === 'FAILED') {
    if (response.errorMessage === '') return [];
    throw iem.failed(response, 'GetSubscribers');
  }
  const items = childElement(response.data, 'subscriberlist')?.children ?? [];
  const wanted = email.toLowerCase();
  return items
    .filter((item) => item.name === 'item')
    .map(subscriptionFromItem)
    .filter((s) => s.subscriberId !== '' && s.listId !== '' && s.email.toLowerCase() === wanted);
}

/** `subscribers/LoadSubscriberList`: one subscription by ids, undefined when absent. */
async function loadSubscription(
  iem: IemCaller,
  tally: CallTally,
  subscriberId: string,
  listId: string,
): Promise<InterspireSubscription | undefined> {
  const response = await iem.call(tally, 'subscribers', 'LoadSubscriberList', {
    subscriberid: subscriberId,
    listid: listId,
    returnonly: 1,
    include_customfields: 0,
  });
  if (response.status === 'FAILED') {
    if (response.errorMessage === '') return undefined;
    throw iem.failed(response, 'LoadSubscriberList');
  }
  const row = subscriptionFromItem(response.data);
  return { ...row, subscriberId, listId };
}

/**
 * `subscribers/IsUnSubscriber` by subscriberid + listid: SUCCESS (the id) when unsubscribed, FAILED
 * with an empty message otherwise. The address is left out on purpose: IEM builds of 2007 join
 * `emailaddress` and `subscriberid` without an AND, a broken query that always answers "no".
 */
async function isUnsubscribed(iem: IemCaller, tally: CallTally, s: InterspireSubscription): Promise<boolean> {
  const byId = s.subscriberId !== '';
  const response = await iem.call(tally, 'subscribers', 'IsUnSubscriber', {
    ...(byId ? { subscriberid: s.subscriberId } : { emailaddress: s.email }),
    listid: s.listId,
  });
  return response.status === 'SUCCESS';
}

/**
 * `subscribers/UnsubscribeSubscriber`. Not idempotent (every call adds an unsubscribe row and
 * moves the counters), so before any retry we ask IsUnSubscriber whether a lost attempt landed.
 */
async function unsubscribe(
  iem: IemCaller,
  tally: CallTally,
  s: InterspireSubscription,
): Promise<'done' | 'not-subscribed'> {
  const applied = async () =>
    (await isUnsubscribed(iem, tally, s))
      ? ({ status: 'SUCCESS', data: undefined, errorMessage: '' } as const)
      : undefined;
  const response = await iem.call(
    tally,
    'subscribers',
    'UnsubscribeSubscriber',
    { emailaddress: s.email, listid: s.listId, subscriberid: s.subscriberId },
    applied,
  );
  if (response.status === 'SUCCESS') return 'done';
  if (/is not subscribed to this list/.test(response.errorMessage)) return 'not-subscribed';
  throw iem.failed(response, 'UnsubscribeSubscriber');
}

/** `subscribers/AddBannedSubscriber` listid=g: the global suppression list. */
async function banGlobally(iem: IemCaller, tally: CallTally, email: string): Promise<'added' | 'already'> {
  const response = await iem.call(tally, 'subscribers', 'AddBannedSubscriber', {
    emailaddress: email,
    listid: 'g',
  });
  if (response.status === 'SUCCESS') return 'added';
  if (/already in the suppression list/i.test(response.errorMessage)) return 'already';
  throw iem.failed(response, 'AddBannedSubscriber');
}

function createInterspireApi(options: InterspireApiOptions) {
  const iem = createIemCaller(options);
  return {
    testToken: (tally: CallTally) => testToken(iem, tally),
    listsPage: (tally: CallTally, start: number, perPage: number) => listsPage(iem, tally, start, perPage),
    findSubscriptions: (tally: CallTally, email: string) => findSubscriptions(iem, tally, email),
    loadSubscription: (tally: CallTally, subscriberId: string, listId: string) =>
      loadSubscription(iem, tally, subscriberId, listId),
    isUnsubscribed: (tally: CallTally, s: InterspireSubscription) => isUnsubscribed(iem, tally, s),
    unsubscribe: (tally: CallTally, s: InterspireSubscription) => unsubscribe(iem, tally, s),
    banGlobally: (tally: CallTally, email: string) => banGlobally(iem, tally, email),
  };
}

type InterspireApi = ReturnType<typeof createInterspireApi>;

export type { InterspireApi, InterspireList, InterspireSubscription, SubscriptionState };
export { createInterspireApi, subscriptionState };
