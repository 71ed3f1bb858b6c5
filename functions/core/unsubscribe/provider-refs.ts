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

/** `List-Id: "Name" <LISTUID.host>` or `LISTUID.host` or a bare uid. */
function listUidFromListId(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const inner = /<([^>]*)>/.exec(value)?.[1] ?? value;
  return uid(inner.trim().split('.')[0]);
}

/** MailWizz unsubscribe URL `.../lists/{L}/unsubscribe/{C}/{S}...` or mailto `{S}.{L}.{C}@domain`. */
function idsFromListUnsubscribe(value: string | undefined): {
  list?: string;
  subscriber?: string;
  campaign?: string;
} {
  if (!value) return {};
  const url = /\/lists\/([a-z0-9]{13})\/unsubscribe\/([a-z0-9]{13})\/([a-z0-9]{13})/.exec(value);
  if (url) return { list: url[1], campaign: url[2], subscriber: url[3] };
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
  const campaign = unsub.campaign ?? feedback.campaign;
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

function extractProviderRefs(headers: LoggedHeaders): SubscriberRef[] {
  if (headers.size === 0) return [];
  const refs: SubscriberRef[] = [];
  const mw = mailwizzRef(headers);
  if (mw) refs.push(mw);
  const iem = interspireRef(headers);
  if (iem) refs.push(iem);
  return refs;
}

export type { LoggedHeaders };
export { extractProviderRefs, idsFromFeedbackId, idsFromListUnsubscribe, listUidFromListId };
