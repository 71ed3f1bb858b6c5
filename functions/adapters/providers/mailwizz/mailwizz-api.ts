/**
 * The MailWizz REST calls this product needs (docs/provider-apis.md §1.4), for API 1.x (signed with the
 * private key), 2.x and 3.x (X-API-KEY). Sends the real verb and form bodies; maps MailWizz's
 * 400-with-message auth failures to ProviderError kind `auth`.
 */
import { ProviderError, ProviderErrorKind } from '#core/errors.ts';
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

function readEnvelope(response: ProviderResponse): Envelope | undefined {
  if (response.text.trim() === '') return undefined;
  try {
    const parsed: unknown = JSON.parse(response.text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Envelope) : undefined;
  } catch {
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> {
  return value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** `count` is a string on older PHP/PDO, a number on PHP ≥ 8.1, null when zero. */
function readCount(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && /^\d+$/.test(value.trim())) return Number(value.trim());
  return 0;
}

function createMailwizzApi(options: MailwizzApiOptions) {
  const { providerId, policy } = options;
  const base = options.url.replace(/\/+$/, '');

  function build(method: ProviderRequest['method'], path: string, query: FormParams = {}, body?: FormParams) {
    return (): ProviderRequest => {
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
      const request: ProviderRequest = {
        method,
        url: queryString ? `${url}?${queryString}` : url,
        headers,
      };
      if (body !== undefined) {
        headers['content-type'] = 'application/x-www-form-urlencoded';
        request.body = buildSortedQuery(body);
      }
      return request;
    };
  }

  /** Success → data; auth/transient/other failures → ProviderError; `notFound` statuses → undefined. */
  function interpret(notFoundStatuses: readonly number[] = []) {
    return (response: ProviderResponse): { data: unknown; envelope: Envelope | undefined } | undefined => {
      const envelope = readEnvelope(response);
      const message = errorText(envelope);
      if (response.status === 400 && AUTH_ERRORS.has(message)) {
        throw new ProviderError(providerId, ProviderErrorKind.auth, `credentials refused: ${message}`, {
          status: 400,
        });
      }
      if (notFoundStatuses.includes(response.status)) return undefined;
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

  return {
    /** `GET lists/subscribers/search-by-email-in-all-lists`: up to 100 rows, never 404. */
    async searchAllLists(tally: CallTally, email: string): Promise<MailwizzSubscription[]> {
      const result = await policy.send(
        tally,
        build('GET', 'lists/subscribers/search-by-email-in-all-lists', { EMAIL: email }),
        interpret(),
      );
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
    },

    /** `PUT lists/subscribers/unsubscribe-by-email-from-all-lists`: idempotent, success even if nothing matched. */
    async unsubscribeAllLists(tally: CallTally, email: string): Promise<void> {
      await policy.send(
        tally,
        build('PUT', 'lists/subscribers/unsubscribe-by-email-from-all-lists', {}, { EMAIL: email }),
        interpret(),
      );
    },

    /** `GET lists/{L}/subscribers/{S}`: the status, or undefined when the list or subscriber is missing. */
    async getSubscriber(
      tally: CallTally,
      listUid: string,
      subscriberUid: string,
    ): Promise<{ status: string } | undefined> {
      if (!UID.test(listUid) || !UID.test(subscriberUid)) return undefined;
      const result = await policy.send(
        tally,
        build('GET', `lists/${listUid}/subscribers/${subscriberUid}`),
        interpret([404]),
      );
      if (!result) return undefined;
      const record = asRecord(asRecord(result.data).record);
      return { status: str(record.status) ?? '' };
    },

    /** `PUT lists/{L}/subscribers/{S}/unsubscribe`: changes only a confirmed subscriber. */
    async unsubscribe(tally: CallTally, listUid: string, subscriberUid: string): Promise<'ok' | 'not-found'> {
      if (!UID.test(listUid) || !UID.test(subscriberUid)) return 'not-found';
      const result = await policy.send(
        tally,
        build('PUT', `lists/${listUid}/subscribers/${subscriberUid}/unsubscribe`, {}, {}),
        interpret([404]),
      );
      return result ? 'ok' : 'not-found';
    },

    /** `POST campaigns/{C}/bounces` with bounce_type=hard: MailWizz then blacklists the address. */
    async reportBounce(
      tally: CallTally,
      campaignUid: string,
      subscriberUid: string,
      message: string,
    ): Promise<BounceReport> {
      if (!UID.test(campaignUid) || !UID.test(subscriberUid)) return 'skipped';
      const result = await policy.send(
        tally,
        build(
          'POST',
          `campaigns/${campaignUid}/bounces`,
          {},
          { subscriber_uid: subscriberUid, bounce_type: 'hard', message: message.slice(0, 250) },
        ),
        // 422 here means "already marked as bounced"; 404 a missing campaign or subscriber.
        interpret([404, 422]),
      );
      return result === undefined ? 'skipped' : 'recorded';
    },

    /** `GET lists?page=1&per_page=10`: the cheapest authenticated call; returns the list count. */
    async countLists(tally: CallTally): Promise<number> {
      const result = await policy.send(tally, build('GET', 'lists', { page: 1, per_page: 10 }), interpret());
      return readCount(asRecord(result?.data).count);
    },
  };
}

type MailwizzApi = ReturnType<typeof createMailwizzApi>;

export type { BounceReport, MailwizzApi, MailwizzApiOptions, MailwizzSubscription };
export { AUTH_ERRORS as MAILWIZZ_AUTH_ERRORS, createMailwizzApi, readCount };
