/**
 * The Mautic REST calls this product needs (docs/providers.md "Mautic"), 4.x and later: contacts
 * by exact email with their Do Not Contact entries, DNC add on the email channel, a contact's
 * segments and segment removal. Auth is an OAuth2 client-credentials token (Mautic 4+, API
 * credentials created by an admin) or BasicAuth (when enabled in Mautic's API settings).
 * Errors come as `{"errors":[{"code":..,"message":"..","type":..}]}` with the same HTTP status.
 */
import { ProviderError, ProviderErrorKind } from '#core/errors.ts';
import { asItems, asRecord, readCount, readJsonObject, str } from '../json-body.ts';
import {
  type CallTally,
  errorForStatus,
  type ProviderCallPolicy,
  type ProviderRequest,
  type ProviderResponse,
} from '../provider-call-policy.ts';

type MauticAuth =
  | { type: 'oauth2'; clientId: string; clientSecret: string }
  | { type: 'basic'; username: string; password: string };

interface MauticApiOptions {
  providerId: string;
  /** The instance root, e.g. https://mautic.example.com (API under /api, token under /oauth/v2). */
  url: string;
  auth: MauticAuth;
  policy: ProviderCallPolicy;
  now(): number;
}

interface MauticContact {
  id: string;
  email: string;
  /** The reason of the DNC on the email channel (1 unsubscribed, 2 bounced, 3 manual), if any. */
  emailDnc: number | undefined;
}

/** Do Not Contact reasons (LeadBundle Entity/DoNotContact). */
const DncReason = { unsubscribed: 1, bounced: 2, manual: 3 } as const;
type DncReason = (typeof DncReason)[keyof typeof DncReason];

/** What FILTER_SANITIZE_SPECIAL_CHARS turns into entities (controls aside: no address has them). */
const SANITIZED_CHARS = /['"&<>]/;

/** A token is renewed this long before Mautic says it expires. */
const TOKEN_MARGIN_MS = 60_000;

function readContact(raw: unknown): MauticContact | undefined {
  const record = asRecord(raw);
  const id = str(record.id);
  const email = str(asRecord(asRecord(record.fields).all).email);
  if (!id || !email) return undefined;
  const dnc = asItems(record.doNotContact)
    .map(asRecord)
    .find((d) => d.channel === 'email');
  const reason = dnc ? readCount(dnc.reason) : 0;
  return { id, email, emailDnc: reason > 0 ? reason : undefined };
}

function errorText(response: ProviderResponse): string {
  const first = asRecord(asItems(readJsonObject(response.text)?.errors)[0]);
  return (str(first.message) ?? '').slice(0, 200);
}

/** An error for a failed answer, with Mautic's message (it never echoes a credential). */
function failureOf(providerId: string, response: ProviderResponse, nowMs: number): ProviderError | undefined {
  const error = errorForStatus(providerId, response, nowMs);
  if (!error) return undefined;
  const message = errorText(response);
  if (error.kind === ProviderErrorKind.transient || !message) return error;
  const prefix = error.kind === ProviderErrorKind.auth ? 'credentials refused' : `HTTP ${response.status}`;
  return new ProviderError(providerId, error.kind, `${prefix}: ${message}`, { status: response.status });
}

/** Keeps one client-credentials token and renews it before it expires or when Mautic refuses it. */
function createTokenSource(options: MauticApiOptions, base: string) {
  let cached: { token: string; expiresAt: number } | undefined;
  // Concurrent actions wait for the one token request in flight instead of each asking.
  let pending: Promise<{ token: string; expiresAt: number }> | undefined;
  return {
    forget(): void {
      cached = undefined;
    },
    async header(tally: CallTally): Promise<string> {
      const { auth } = options;
      if (auth.type === 'basic') {
        return `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
      }
      if (!cached || cached.expiresAt <= options.now()) {
        pending ??= requestToken(tally, auth).finally(() => {
          pending = undefined;
        });
        cached = await pending;
      }
      return `Bearer ${cached.token}`;
    },
  };

  async function requestToken(tally: CallTally, auth: Extract<MauticAuth, { type: 'oauth2' }>) {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: auth.clientId,
      client_secret: auth.clientSecret,
    }).toString();
    const build = (): ProviderRequest => ({
      method: 'POST',
      url: `${base}/oauth/v2/token`,
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    return options.policy.send(tally, build, (response) => {
      // A refused client is 400 invalid_client: our configuration, not a bad request.
      if (response.status === 400 || response.status === 401) {
        const detail = errorText(response) || `HTTP ${response.status}`;
        throw new ProviderError(
          options.providerId,
          ProviderErrorKind.auth,
          `OAuth2 client refused: ${detail}`,
          {
            status: response.status,
          },
        );
      }
      const failure = failureOf(options.providerId, response, options.now());
      if (failure) throw failure;
      const json = readJsonObject(response.text);
      const token = str(json?.access_token);
      if (!token)
        throw new ProviderError(
          options.providerId,
          ProviderErrorKind.transient,
          'no access_token in the answer',
        );
      const lifetimeMs = (readCount(json?.expires_in) || 3600) * 1000;
      return { token, expiresAt: options.now() + lifetimeMs - TOKEN_MARGIN_MS };
    });
  }
}

interface CallOptions {
  form?: Record<string, string>;
  /** Statuses that mean "no such thing": the call returns undefined. */
  absent?: readonly number[];
}

/** Requests with the right Authorization; a refused bearer token (revoked, expired early) is renewed once. */
function createMauticClient(options: MauticApiOptions) {
  const { providerId, policy } = options;
  const base = options.url.replace(/\/+$/, '');
  const tokens = createTokenSource(options, base);

  function request(
    method: ProviderRequest['method'],
    path: string,
    authorization: string,
    form?: Record<string, string>,
  ) {
    const headers: Record<string, string> = { accept: 'application/json', authorization };
    const out: ProviderRequest = { method, url: `${base}/api/${path}`, headers };
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      out.body = new URLSearchParams(form).toString();
    }
    return out;
  }

  function reader<T>(read: (json: Record<string, unknown>) => T, absent: readonly number[] = []) {
    return (response: ProviderResponse): T | undefined => {
      if (absent.includes(response.status)) return undefined;
      const failure = failureOf(providerId, response, options.now());
      if (failure) throw failure;
      const json = readJsonObject(response.text);
      if (!json) throw new ProviderError(providerId, ProviderErrorKind.transient, 'unexpected response body');
      return read(json);
    };
  }

  async function call<T>(
    tally: CallTally,
    method: ProviderRequest['method'],
    path: string,
    read: (json: Record<string, unknown>) => T,
    callOptions: CallOptions = {},
  ): Promise<T | undefined> {
    for (let attempt = 1; ; attempt += 1) {
      const authorization = await tokens.header(tally);
      try {
        const build = () => request(method, path, authorization, callOptions.form);
        return await policy.send(tally, build, reader(read, callOptions.absent));
      } catch (error) {
        const refused =
          error instanceof ProviderError && error.status === 401 && options.auth.type === 'oauth2';
        if (!refused || attempt > 1) throw error;
        tokens.forget();
      }
    }
  }

  return { call };
}

function createMauticApi(options: MauticApiOptions) {
  const { call } = createMauticClient(options);
  return {
    /** Contacts whose email is exactly this one (Mautic may hold duplicates). */
    async findContacts(tally: CallTally, email: string): Promise<MauticContact[]> {
      // Mautic passes `where` values through FILTER_SANITIZE_SPECIAL_CHARS (InputHelper::clean), so
      // an address with ' " & < > can never equal them there: such addresses use the search.
      const params = SANITIZED_CHARS.test(email)
        ? new URLSearchParams({ search: `email:${email}`, limit: '50' })
        : new URLSearchParams({
            'where[0][col]': 'email',
            'where[0][expr]': 'eq',
            'where[0][val]': email,
            limit: '50',
          });
      const contacts = await call(tally, 'GET', `contacts?${params}`, (json) =>
        asItems(json.contacts).map(readContact),
      );
      const wanted = email.toLowerCase();
      return (contacts ?? []).filter((c): c is MauticContact => c?.email.toLowerCase() === wanted);
    },

    /** `POST contacts/{id}/dnc/email/add`: undefined when the contact is gone (404). */
    async addEmailDnc(tally: CallTally, id: string, reason: DncReason, comments: string): Promise<boolean> {
      const form = { reason: String(reason), comments: comments.slice(0, 250) };
      const done = await call(tally, 'POST', `contacts/${id}/dnc/email/add`, () => true, {
        form,
        absent: [404],
      });
      return done === true;
    },

    /** The ids of the segments the contact is in, or undefined when there is no such contact. */
    async segmentsOf(tally: CallTally, id: string): Promise<Set<string> | undefined> {
      if (!/^\d{1,12}$/.test(id)) return undefined;
      return call(
        tally,
        'GET',
        `contacts/${id}/segments`,
        (json) => new Set(asItems(json.lists).map((l) => str(asRecord(l).id) ?? '')),
        { absent: [404] },
      );
    },

    /** `POST segments/{segment}/contact/{id}/remove`: false when either is gone (404). */
    async removeFromSegment(tally: CallTally, segmentId: string, id: string): Promise<boolean> {
      if (!/^\d{1,12}$/.test(segmentId)) return false;
      const path = `segments/${segmentId}/contact/${id}/remove`;
      return (await call(tally, 'POST', path, () => true, { absent: [404] })) === true;
    },

    /** `GET contacts?limit=1&minimal=1`: the cheapest authenticated call; the contact total. */
    async countContacts(tally: CallTally): Promise<number> {
      return (await call(tally, 'GET', 'contacts?limit=1&minimal=1', (json) => readCount(json.total))) ?? 0;
    },
  };
}

type MauticApi = ReturnType<typeof createMauticApi>;

export type { MauticApi, MauticApiOptions, MauticAuth, MauticContact };
export { createMauticApi, DncReason };
