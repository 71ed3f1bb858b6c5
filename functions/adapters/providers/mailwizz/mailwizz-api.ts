/**
 * The MailWizz REST calls this product needs (docs/provider-apis.md §1.4), for API 1.x (signed with the
 * private key), 2.x and 3.x (X-API-KEY). Sends the real verb and form bodies; maps MailWizz's
 * 400-with-message auth failures to ProviderError kind `auth`.
 */
import { ProviderError, ProviderErrorKind } from '#core/errors.ts';
import { asRecord, readCount, readJsonObject, str } from '../json-body.ts';
import {
  type CallTally,
  errorForStatus,
  type ProviderCallPolicy,
  type ProviderRequest,
  type ProviderResponse,
} from '../provider-call-policy.ts';
import { signMailwizzRequest } from './mailwizz-signature.ts';
import { buildSortedQuery, type FormParams } from './php-form-encoding.ts';

interface MailwizzApiOptions {
  providerId: string;
  /** The API app's base URL, e.g. https://mw.example.com/api */
  url: string;
  apiKey: string;
  privateKey?: string | undefined;
  policy: ProviderCallPolicy;
  now(): number;
}

interface MailwizzSubscription {
  subscriberUid: string;
  email: string;
  status: string;
  listUid: string;
  listName: string | undefined;
}

/** A subscriber as `GET lists/{L}/subscribers/{S}` shows it: status and custom field values by tag. */
interface MailwizzSubscriberRecord {
  status: string;
  /** The address, unless MailWizz masks it (widening hidden-recipient complaints needs it). */
  email: string | undefined;
  fields: Record<string, string>;
}

/** `skipped`: MailWizz refused it as already bounced or unknown (404/422), which changes nothing. */
type BounceReport = 'recorded' | 'skipped';

/** Every auth failure MailWizz reports, all with HTTP 400 (docs/provider-apis.md §1.3). */
const AUTH_ERRORS = new Set([
  'Invalid API request params. Please refer to the documentation.',
  'Invalid API key. Please refer to the documentation.',
  'Your IP address is not allowed to access this server.',
  'Your account must be active in order to use the API.',
  'Your account is not allowed to use the API.',
  'Your request expired. Please refer to the documentation.',
  'Invalid API request signature. Please refer to the documentation.',
]);

const UID = /^[a-z0-9]+$/;

interface Envelope {
  status?: unknown;
  error?: unknown;
  data?: unknown;
}

function errorText(envelope: Envelope | undefined): string {
  const error = envelope?.error;
  if (typeof error === 'string') return error.slice(0, 200);
  // Field validation errors come as an object of messages.
  if (error && typeof error === 'object') return Object.values(error).map(String).join('; ').slice(0, 200);
  return '';
}

interface Interpreted {
  data: unknown;
  envelope: Envelope | undefined;
}

/** The request builder and answer reader every call shares (the named steps below use it). */
interface MailwizzClient {
  options: MailwizzApiOptions;
  build(
    method: ProviderRequest['method'],
    path: string,
    query?: FormParams,
    body?: FormParams,
  ): () => ProviderRequest;
  /** Success → data; auth/transient/other failures → ProviderError; `absent` statuses → undefined. */
  interpret(absent?: readonly number[]): (response: ProviderResponse) => Interpreted | undefined;
}

/** X-API-KEY for 2.x/3.x plus the 1.x headers, signed when a private key is configured. */
function requestBuilder(options: MailwizzApiOptions): MailwizzClient['build'] {
  const base = options.url.replace(/\/+$/, '');
  return (method, path, query = {}, body) =>
    () => {
      const url = `${base}/${path}`;
      const queryString = buildSortedQuery(query);
      const timestamp = Math.floor(options.now() / 1000);
      const headers: Record<string, string> = {
        accept: 'application/json',
        'x-api-key': options.apiKey,
        // 1.x reads these; 2.x/3.x ignore them when X-API-KEY is present.
        'x-mw-public-key': options.apiKey,
        'x-mw-timestamp': String(timestamp),
      };
      if (options.privateKey) {
        headers['x-mw-signature'] = signMailwizzRequest(
          { method, url, query, body: body ?? {}, publicKey: options.apiKey, timestamp },
          options.privateKey,
        );
      }
      const request: ProviderRequest = { method, url: queryString ? `${url}?${queryString}` : url, headers };
      if (body !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        request.body = buildSortedQuery(body);
      }
      return request;
    };
}

/**
 * Not-found is final (the subscriber is gone), so only MailWizz's own answer counts: its JSON error
 * envelope naming a missing list, subscriber or campaign. A 404 without it (a web server or proxy
 * page) or with "Page not found." (a wrong base path: no route matched) is a configuration error
 * that must keep the action pending (docs/operations.md).
 */
function isMailwizzNotFound(envelope: Envelope | undefined, message: string): boolean {
  return envelope?.status === 'error' && message !== '' && !/^page not found/i.test(message);
}

const HTML_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  '#039': "'",
  '#39': "'",
};

/**
 * The EMAIL of a subscriber record: 1.x HTML-escapes values (CHtml::encode); 2.x may mask it
 * (`common.mask_email_addresses`, docs/providers.md). A masked address is no address.
 */
function subscriberEmail(value: unknown): string | undefined {
  const raw = str(value);
  if (!raw || raw.length > 320) return undefined;
  const email = raw.replace(/&(amp|lt|gt|quot|#0?39);/g, (_m, name: string) => HTML_ENTITIES[name] ?? '');
  return email.includes('*') ? undefined : email;
}

/** MailWizz answers auth failures with 400 and a known text; other failures by status. */
function responseReader(options: MailwizzApiOptions): MailwizzClient['interpret'] {
  const { providerId } = options;
  return (absent = []) =>
    (response) => {
      const envelope = readJsonObject(response.text) as Envelope | undefined;
      const message = errorText(envelope);
      if (response.status === 400 && AUTH_ERRORS.has(message)) {
        throw new ProviderError(providerId, ProviderErrorKind.auth, `credentials refused: ${message}`, {
          status: 400,
        });
      }
      if (absent.includes(response.status) && isMailwizzNotFound(envelope, message)) return undefined;
      const statusError = errorForStatus(providerId, response, options.now());
      if (statusError) {
        if (statusError.kind !== ProviderErrorKind.permanent || !message) throw statusError;
        throw new ProviderError(
          providerId,
          ProviderErrorKind.permanent,
          `HTTP ${response.status}: ${message}`,
          {
            status: response.status,
          },
        );
      }
      if (envelope?.status !== 'success') {
        throw new ProviderError(providerId, ProviderErrorKind.transient, 'unexpected response body', {
          status: response.status,
        });
      }
      return { data: envelope.data, envelope };
    };
}

/** `GET lists/subscribers/search-by-email-in-all-lists`: up to 100 rows, never 404. */
async function searchAllLists(
  client: MailwizzClient,
  tally: CallTally,
  email: string,
): Promise<MailwizzSubscription[]> {
  const { providerId, policy } = client.options;
  const path = 'lists/subscribers/search-by-email-in-all-lists';
  const result = await policy.send(tally, client.build('GET', path, { EMAIL: email }), client.interpret());
  const records = asRecord(result?.data).records;
  if (!Array.isArray(records)) {
    throw new ProviderError(providerId, ProviderErrorKind.transient, 'unexpected search response');
  }
  const out: MailwizzSubscription[] = [];
  for (const raw of records) {
    const record = asRecord(raw);
    const list = asRecord(record.list);
    const listUid = str(list.list_uid);
    const subscriberUid = str(record.subscriber_uid);
    if (!listUid || !subscriberUid) continue;
    out.push({
      subscriberUid,
      email: str(record.email) ?? email,
      status: str(record.status) ?? '',
      listUid,
      listName: str(list.display_name) || str(list.name),
    });
  }
  return out;
}

/** `GET lists/{L}/subscribers/{S}`: status and custom fields, or undefined when missing. */
async function getSubscriber(
  client: MailwizzClient,
  tally: CallTally,
  listUid: string,
  subscriberUid: string,
): Promise<MailwizzSubscriberRecord | undefined> {
  if (!UID.test(listUid) || !UID.test(subscriberUid)) return undefined;
  const result = await client.options.policy.send(
    tally,
    client.build('GET', `lists/${listUid}/subscribers/${subscriberUid}`),
    client.interpret([404]),
  );
  if (!result) return undefined;
  const record = asRecord(asRecord(result.data).record);
  const fields: Record<string, string> = {};
  // Custom field tags are upper case (EMAIL, FNAME, ...); the rest is subscriber metadata.
  for (const [key, value] of Object.entries(record)) {
    const text = str(value);
    if (/^[A-Z][A-Z0-9_]*$/.test(key) && text !== undefined) fields[key] = text;
  }
  return { status: str(record.status) ?? '', email: subscriberEmail(record.EMAIL), fields };
}

/**
 * `PUT lists/{L}/subscribers/{S}` with `details[status]`. The update validates every required list
 * field, so the fields read just before are sent back (docs/provider-apis.md §1.4). MailWizz answers 409
 * both for a missing subscriber and for an address in its email blacklist: told apart by the text.
 */
async function setSubscriberStatus(
  client: MailwizzClient,
  tally: CallTally,
  subscription: { listUid: string; subscriberUid: string; email: string },
  fields: Readonly<Record<string, string>>,
  status: string,
): Promise<'ok' | 'not-found' | 'email-blacklisted'> {
  const { listUid, subscriberUid, email } = subscription;
  if (!UID.test(listUid) || !UID.test(subscriberUid)) return 'not-found';
  // 2.x may mask EMAIL on read: send the address we know.
  const body = { ...fields, EMAIL: email, details: { status } };
  const read = (response: ProviderResponse): 'ok' | 'not-found' | 'email-blacklisted' => {
    const text = errorText(readJsonObject(response.text) as Envelope | undefined);
    if (response.status === 409) return text.includes('blacklisted') ? 'email-blacklisted' : 'not-found';
    return client.interpret([404])(response) ? 'ok' : 'not-found';
  };
  return client.options.policy.send(
    tally,
    client.build('PUT', `lists/${listUid}/subscribers/${subscriberUid}`, {}, body),
    read,
  );
}

/** `details[status]=blacklisted`; an address already in the email blacklist counts as done. */
async function blacklistSubscriber(
  client: MailwizzClient,
  tally: CallTally,
  subscription: { listUid: string; subscriberUid: string; email: string },
  fields: Readonly<Record<string, string>>,
): Promise<'ok' | 'not-found'> {
  const result = await setSubscriberStatus(client, tally, subscription, fields, 'blacklisted');
  return result === 'email-blacklisted' ? 'ok' : result;
}

/** `POST campaigns/{C}/bounces` with bounce_type=hard: MailWizz then blacklists the address. */
async function reportBounce(
  client: MailwizzClient,
  tally: CallTally,
  campaignUid: string,
  subscriberUid: string,
  message: string,
): Promise<BounceReport> {
  if (!UID.test(campaignUid) || !UID.test(subscriberUid)) return 'skipped';
  const body = { subscriber_uid: subscriberUid, bounce_type: 'hard', message: message.slice(0, 250) };
  const result = await client.options.policy.send(
    tally,
    client.build('POST', `campaigns/${campaignUid}/bounces`, {}, body),
    // 422 here means "already marked as bounced"; 404 a missing campaign or subscriber.
    client.interpret([404, 422]),
  );
  return result === undefined ? 'skipped' : 'recorded';
}

function createMailwizzApi(options: MailwizzApiOptions) {
  const client: MailwizzClient = {
    options,
    build: requestBuilder(options),
    interpret: responseReader(options),
  };
  const { policy } = options;
  return {
    searchAllLists: (tally: CallTally, email: string) => searchAllLists(client, tally, email),
    /** `PUT lists/subscribers/unsubscribe-by-email-from-all-lists`: every row, whatever its status. */
    async unsubscribeAllLists(tally: CallTally, email: string): Promise<void> {
      const path = 'lists/subscribers/unsubscribe-by-email-from-all-lists';
      await policy.send(tally, client.build('PUT', path, {}, { EMAIL: email }), client.interpret());
    },
    getSubscriber: (tally: CallTally, listUid: string, subscriberUid: string) =>
      getSubscriber(client, tally, listUid, subscriberUid),
    /** `PUT lists/{L}/subscribers/{S}/unsubscribe`: changes only a confirmed subscriber. */
    async unsubscribe(tally: CallTally, listUid: string, subscriberUid: string): Promise<'ok' | 'not-found'> {
      if (!UID.test(listUid) || !UID.test(subscriberUid)) return 'not-found';
      const path = `lists/${listUid}/subscribers/${subscriberUid}/unsubscribe`;
      const result = await policy.send(tally, client.build('PUT', path, {}, {}), client.interpret([404]));
      return result ? 'ok' : 'not-found';
    },
    blacklistSubscriber: (
      tally: CallTally,
      subscription: { listUid: string; subscriberUid: string; email: string },
      fields: Readonly<Record<string, string>>,
    ) => blacklistSubscriber(client, tally, subscription, fields),
    setSubscriberStatus: (
      tally: CallTally,
      subscription: { listUid: string; subscriberUid: string; email: string },
      fields: Readonly<Record<string, string>>,
      status: string,
    ) => setSubscriberStatus(client, tally, subscription, fields, status),
    reportBounce: (tally: CallTally, campaignUid: string, subscriberUid: string, message: string) =>
      reportBounce(client, tally, campaignUid, subscriberUid, message),
    /** `GET lists?page=1&per_page=10`: the cheapest authenticated call; returns the list count. */
    async countLists(tally: CallTally): Promise<number> {
      const result = await policy.send(
        tally,
        client.build('GET', 'lists', { page: 1, per_page: 10 }),
        client.interpret(),
      );
      return readCount(asRecord(result?.data).count);
    },
  };
}

type MailwizzApi = ReturnType<typeof createMailwizzApi>;

export type { BounceReport, MailwizzApi, MailwizzApiOptions, MailwizzSubscriberRecord, MailwizzSubscription };
export { AUTH_ERRORS as MAILWIZZ_AUTH_ERRORS, createMailwizzApi, readCount };
