/**
 * Provider ids carried in the sent message's headers, logged by PowerMTA as `header_*` fields
 * (`record-fields f *,header_List-Id,header_X-Mw-Subscriber-Uid,...`). They identify the
 * subscription when a feedback report hides the recipient.
 */
import type { SubscriberRef } from '../mail-event.ts';

const MAILWIZZ_UID = /^[a-z0-9]{13}$/;
const INTERSPIRE_ID = /^\d{1,12}$/;

/** Lower-cased header name → value, for the `header_*` fields of one record. */
type LoggedHeaders = ReadonlyMap<string, string>;

function uid(value: string | undefined): string | undefined {
  const v = value?.trim();
  return v && MAILWIZZ_UID.test(v) ? v : undefined;
}

/**
 * MailWizz writes `List-Id: {list_uid} <{display name}>` (docs/providers.md); RFC 2919 lists write
 * `"Name" <LISTUID.host>`; some senders a bare `LISTUID.host`. The uid before `<` wins: the display
 * name is free text and may itself look like a uid. indexOf, not a regex: the value is untrusted.
 */
function listUidFromListId(value: string | undefined): string | undefined {
  if (!value) return undefined;
  // indexOf, not /<([^>]*)>/: that pattern rescans the rest of the value from every `<` (quadratic
  // on a hostile header; docs/security.md). The uid before `<` wins over the bracketed part.
  const open = value.indexOf('<');
  if (open < 0) return uid(value.trim().split('.')[0]);
  const before = uid(value.slice(0, open));
  if (before) return before;
  const close = value.indexOf('>', open + 1);
  const inner = value.slice(open + 1, close < 0 ? undefined : close);
  return uid(inner.trim().split('.')[0]);
}

/**
 * MailWizz's own unsubscribe URL is `{frontend}lists/{list}/unsubscribe/{subscriber}/{campaign}`,
 * followed by `/unsubscribe-direct?source=...` (1.x) or `?source=...` (2.x), then optionally a
 * `<mailto:...>` part whose address is not ours (docs/providers.md, docs/unsubscribe.md). Our own
 * unsubscribe-domain address is `mailto:{subscriber}.{list}.{campaign}@domain`.
 */
function idsFromListUnsubscribe(value: string | undefined): {
  list?: string;
  subscriber?: string;
  campaign?: string;
} {
  if (!value) return {};
  const url = /\/lists\/([a-z0-9]{13})\/unsubscribe\/([a-z0-9]{13})\/([a-z0-9]{13})(?![a-z0-9])/.exec(value);
  if (url) return { list: url[1], subscriber: url[2], campaign: url[3] };
  const mailto = /mailto:([a-z0-9]{13})\.([a-z0-9]{13})\.([a-z0-9]{13})@/i.exec(value);
  if (mailto)
    return {
      subscriber: mailto[1]!.toLowerCase(),
      list: mailto[2]!.toLowerCase(),
      campaign: mailto[3]!.toLowerCase(),
    };
  return {};
}

/**
 * MailWizz's default Feedback-ID is `campaign:subscriber:list:customer` (13-char uids). Any other
 * shape is ignored rather than guessed.
 */
function idsFromFeedbackId(value: string | undefined): {
  list?: string;
  subscriber?: string;
  campaign?: string;
} {
  const parts = value?.trim().split(':') ?? [];
  if (parts.length < 3 || !parts.slice(0, 3).every((p) => MAILWIZZ_UID.test(p))) return {};
  return { campaign: parts[0], subscriber: parts[1], list: parts[2] };
}

function findBySuffix(headers: LoggedHeaders, suffix: string): string | undefined {
  for (const [name, value] of headers) if (name.endsWith(suffix) && value.trim()) return value;
  return undefined;
}

function mailwizzRef(headers: LoggedHeaders): SubscriberRef | undefined {
  const unsub = idsFromListUnsubscribe(headers.get('list-unsubscribe'));
  const feedback = idsFromFeedbackId(headers.get('feedback-id'));
  const subscriber = uid(findBySuffix(headers, '-subscriber-uid')) ?? unsub.subscriber ?? feedback.subscriber;
  const list =
    uid(findBySuffix(headers, '-list-uid')) ??
    listUidFromListId(headers.get('list-id')) ??
    unsub.list ??
    feedback.list;
  if (!subscriber || !list) return undefined;
  const campaign = uid(findBySuffix(headers, '-campaign-uid')) ?? unsub.campaign ?? feedback.campaign;
  return {
    providerType: 'mailwizz',
    listId: list,
    subscriberId: subscriber,
    ...(campaign ? { campaignId: campaign } : {}),
  };
}

function interspireRef(headers: LoggedHeaders): SubscriberRef | undefined {
  const list = headers.get('x-mailer-lid')?.trim();
  const subscriber = headers.get('x-mailer-recptid')?.trim();
  if (!list || !subscriber || !INTERSPIRE_ID.test(list) || !INTERSPIRE_ID.test(subscriber)) return undefined;
  return { providerType: 'interspire', listId: list, subscriberId: subscriber };
}

/**
 * RFC 5322 caps a header line at 998 characters: anything longer is not a header we wrote, and no
 * pattern runs over more than this (docs/security.md).
 */
const MAX_HEADER_LENGTH = 998;

function capped(headers: LoggedHeaders): LoggedHeaders {
  let long = false;
  for (const value of headers.values()) if (value.length > MAX_HEADER_LENGTH) long = true;
  if (!long) return headers;
  return new Map([...headers].map(([name, value]) => [name, value.slice(0, MAX_HEADER_LENGTH)]));
}

function extractProviderRefs(logged: LoggedHeaders): SubscriberRef[] {
  if (logged.size === 0) return [];
  const headers = capped(logged);
  const refs: SubscriberRef[] = [];
  const mw = mailwizzRef(headers);
  if (mw) refs.push(mw);
  const iem = interspireRef(headers);
  if (iem) refs.push(iem);
  return refs;
}

export type { LoggedHeaders };
export { extractProviderRefs, idsFromFeedbackId, idsFromListUnsubscribe, listUidFromListId };
