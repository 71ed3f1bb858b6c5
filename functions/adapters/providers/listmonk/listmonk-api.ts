/**
 * The listmonk HTTP API calls this product needs (docs/providers.md "listmonk"): subscriber lookup
 * by email, a subscriber's bounces, the bounce webhook, list unsubscribe and blocklist. JSON both
 * ways; `{"data": ...}` on success, `{"message": "..."}` with a 4xx/5xx status otherwise.
 */
import { ProviderError, ProviderErrorKind } from '#core/errors.ts';
import { asItems, asRecord, readJsonObject, str } from '../json-body.ts';
import {
  type CallTally,
  errorForStatus,
  type ProviderCallPolicy,
  type ProviderRequest,
  type ProviderResponse,
} from '../provider-call-policy.ts';

interface ListmonkApiOptions {
  providerId: string;
  /** The instance root, e.g. https://listmonk.example.com (the API is under /api). */
  url: string;
  username: string;
  token: string;
  /** `basic`: every version (v4+: API user and token; v2/v3: the admin login); `token`: v4+. */
  auth: 'basic' | 'token';
  /** `search`: the v5+ regex search; `query`: an SQL expression (v2–v4; v5+ needs subscribers:sql_query). */
  lookup: 'search' | 'query';
  policy: ProviderCallPolicy;
  now(): number;
}

interface ListmonkSubscription {
  listId: string;
  listName: string | undefined;
  /** unconfirmed | confirmed | unsubscribed */
  status: string;
}

interface ListmonkSubscriber {
  id: string;
  email: string;
  /** enabled | disabled | blocklisted */
  status: string;
  lists: ListmonkSubscription[];
}

interface ListmonkBounce {
  email: string;
  type: 'hard' | 'soft' | 'complaint';
  source: string;
  campaignUuid?: string | undefined;
  meta: Record<string, string>;
}

/** What POST /webhooks/bounce without an address says: 400 means enabled and permitted. */
type WebhookProbe = 'ready' | 'webhooks-disabled' | 'bounces-disabled';

const REGEX_SPECIAL = new Set([...'\\.^$|?*+()[]{}']);

/** An anchored POSIX regex matching exactly this address (listmonk's `search` is `~*`). */
function exactEmailPattern(email: string): string {
  let out = '^';
  for (const ch of email) out += REGEX_SPECIAL.has(ch) ? `\\${ch}` : ch;
  return `${out}$`;
}

/** An SQL condition for `query`: a standard string literal, quotes doubled. */
function sqlEmailCondition(email: string): string {
  return `LOWER(subscribers.email) = '${email.toLowerCase().replaceAll("'", "''")}'`;
}

function readSubscriber(raw: unknown): ListmonkSubscriber | undefined {
  const record = asRecord(raw);
  const id = str(record.id);
  const email = str(record.email);
  if (!id || !email) return undefined;
  const lists: ListmonkSubscription[] = [];
  for (const item of asItems(record.lists)) {
    const list = asRecord(item);
    const listId = str(list.id);
    if (listId) {
      lists.push({ listId, listName: str(list.name), status: str(list.subscription_status) ?? '' });
    }
  }
  return { id, email, status: str(record.status) ?? '', lists };
}

function messageOf(response: ProviderResponse): string {
  return (str(readJsonObject(response.text)?.message) ?? '').slice(0, 200);
}

/** Maps a failed answer to an error; listmonk's own message (never a credential) is kept. */
function failureOf(providerId: string, response: ProviderResponse, nowMs: number): ProviderError | undefined {
  const error = errorForStatus(providerId, response, nowMs);
  if (!error) return undefined;
  const message = messageOf(response);
  if (error.kind === ProviderErrorKind.auth) {
    // 403 "invalid API credentials" / "permission denied: <perm>"; 401 from v2/v3 BasicAuth.
    const detail = message || `HTTP ${response.status}`;
    return new ProviderError(providerId, ProviderErrorKind.auth, `credentials refused: ${detail}`, {
      status: response.status,
    });
  }
  if (error.kind === ProviderErrorKind.permanent && message) {
    return new ProviderError(providerId, error.kind, `HTTP ${response.status}: ${message}`, {
      status: response.status,
    });
  }
  return error;
}

/** A configuration problem on the listmonk side: stays pending (retryable) until fixed. */
function configError(providerId: string, status: number, message: string): ProviderError {
  return new ProviderError(providerId, ProviderErrorKind.auth, message, { status });
}

/** The request builder and answer reader every call shares. */
interface ListmonkClient {
  options: ListmonkApiOptions;
  build(method: ProviderRequest['method'], path: string, body?: unknown): () => ProviderRequest;
  /** `data` of a 2xx answer; undefined for the listed statuses; an error otherwise. */
  interpret(
    absentStatuses?: readonly number[],
  ): (response: ProviderResponse) => { data: unknown } | undefined;
}

function createListmonkClient(options: ListmonkApiOptions): ListmonkClient {
  const base = options.url.replace(/\/+$/, '');
  const authorization =
    options.auth === 'token'
      ? `token ${options.username}:${options.token}`
      : `Basic ${Buffer.from(`${options.username}:${options.token}`).toString('base64')}`;
  return {
    options,
    build: (method, path, body) => () => {
      const headers: Record<string, string> = { accept: 'application/json', authorization };
      const request: ProviderRequest = { method, url: `${base}/${path}`, headers };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        request.body = JSON.stringify(body);
      }
      return request;
    },
    interpret:
      (absentStatuses = []) =>
      (response) => {
        if (absentStatuses.includes(response.status)) return undefined;
        const failure = failureOf(options.providerId, response, options.now());
        if (failure) throw failure;
        const envelope = readJsonObject(response.text);
        if (!envelope || !('data' in envelope)) {
          throw new ProviderError(
            options.providerId,
            ProviderErrorKind.transient,
            'unexpected response body',
            {
              status: response.status,
            },
          );
        }
        return { data: envelope.data };
      },
  };
}

/** The subscriber with exactly this address (case-insensitive), or undefined. */
async function findByEmail(
  client: ListmonkClient,
  tally: CallTally,
  email: string,
): Promise<ListmonkSubscriber | undefined> {
  const { options } = client;
  const params = new URLSearchParams({ page: '1', per_page: '20' });
  if (options.lookup === 'search') params.set('search', exactEmailPattern(email));
  else params.set('query', sqlEmailCondition(email));
  const result = await options.policy.send(
    tally,
    client.build('GET', `api/subscribers?${params}`),
    client.interpret(),
  );
  const page = asRecord(result?.data);
  if (options.lookup === 'search' && page.search === undefined) {
    // Before v5 `search` does not exist and is ignored: the page would list everyone.
    throw configError(
      options.providerId,
      200,
      'this listmonk has no `search` (before v5): set lookup: query',
    );
  }
  const wanted = email.toLowerCase();
  for (const raw of asItems(page.results)) {
    const subscriber = readSubscriber(raw);
    if (subscriber?.email.toLowerCase() === wanted) return subscriber;
  }
  return undefined;
}

/** `GET /api/subscribers/{id}`: undefined when there is no such subscriber. */
async function getSubscriber(
  client: ListmonkClient,
  tally: CallTally,
  id: string,
): Promise<ListmonkSubscriber | undefined> {
  if (!/^\d{1,12}$/.test(id)) return undefined;
  const result = await client.options.policy.send(
    tally,
    client.build('GET', `api/subscribers/${id}`),
    client.interpret([400, 404]),
  );
  const data = Array.isArray(result?.data) ? result.data[0] : result?.data;
  return data === undefined ? undefined : readSubscriber(data);
}

/** The `meta.action_id`s of the bounces listmonk holds for this subscriber (needs bounces:get). */
async function bounceActionIds(client: ListmonkClient, tally: CallTally, id: string): Promise<Set<string>> {
  const result = await client.options.policy.send(
    tally,
    client.build('GET', `api/subscribers/${id}/bounces`),
    client.interpret([404]),
  );
  const ids = new Set<string>();
  for (const raw of asItems(result?.data)) {
    const actionId = str(asRecord(asRecord(raw).meta).action_id);
    if (actionId) ids.add(actionId);
  }
  return ids;
}

/** listmonk's own "not possible here" answers of the bounce webhook, as a configuration message. */
function webhookProblem(response: ProviderResponse): string | undefined {
  if (!readJsonObject(response.text)) return undefined; // a proxy page: an outage, not listmonk
  if (response.status === 503) {
    return 'listmonk answered 503 to the bounce webhook: bounce processing is disabled (Settings → Bounces → Enable bounce processing)';
  }
  if (response.status === 404) {
    return 'listmonk has no bounce webhook: enable it (Settings → Bounces → Enable bounce webhooks)';
  }
  return undefined;
}

/** `POST /webhooks/bounce`: listmonk queues it and applies its own bounce actions. */
async function postBounce(
  client: ListmonkClient,
  tally: CallTally,
  bounce: ListmonkBounce,
  alreadyPosted: () => Promise<boolean>,
): Promise<void> {
  const { providerId, policy } = client.options;
  const body = {
    email: bounce.email,
    type: bounce.type,
    source: bounce.source,
    ...(bounce.campaignUuid ? { campaign_uuid: bounce.campaignUuid } : {}),
    meta: bounce.meta,
  };
  const read = (response: ProviderResponse): true => {
    const problem = webhookProblem(response);
    if (problem) throw configError(providerId, response.status, problem);
    client.interpret()(response);
    return true;
  };
  // Not idempotent at listmonk (each post is one more bounce): after a lost answer, look first.
  const alreadyApplied = async () => ((await alreadyPosted()) ? (true as const) : undefined);
  await policy.send(tally, client.build('POST', 'webhooks/bounce', body), read, { alreadyApplied });
}

/** The bounce webhook without an address: changes nothing, says whether bounces can be posted. */
function probeBounceWebhook(client: ListmonkClient, tally: CallTally): Promise<WebhookProbe> {
  const probe = { type: 'hard', source: 'pmta-bounce check' };
  return client.options.policy.send(tally, client.build('POST', 'webhooks/bounce', probe), (response) => {
    // 400 "Invalid fields: email / subscriber_uuid": enabled, permitted, nothing recorded.
    if (response.status === 400) return 'ready';
    if (webhookProblem(response)) return response.status === 404 ? 'webhooks-disabled' : 'bounces-disabled';
    client.interpret()(response);
    return 'ready';
  });
}

function createListmonkApi(options: ListmonkApiOptions) {
  const client = createListmonkClient(options);
  const send = (tally: CallTally, method: ProviderRequest['method'], path: string, body?: unknown) =>
    options.policy.send(tally, client.build(method, path, body), client.interpret());
  return {
    findByEmail: (tally: CallTally, email: string) => findByEmail(client, tally, email),
    getSubscriber: (tally: CallTally, id: string) => getSubscriber(client, tally, id),
    bounceActionIds: (tally: CallTally, id: string) => bounceActionIds(client, tally, id),
    postBounce: (tally: CallTally, bounce: ListmonkBounce, alreadyPosted: () => Promise<boolean>) =>
      postBounce(client, tally, bounce, alreadyPosted),
    probeBounceWebhook: (tally: CallTally) => probeBounceWebhook(client, tally),
    /** `PUT /api/subscribers/lists` action unsubscribe: idempotent. */
    async unsubscribeLists(tally: CallTally, id: string, listIds: readonly string[]): Promise<void> {
      const body = { ids: [Number(id)], action: 'unsubscribe', target_list_ids: listIds.map(Number) };
      await send(tally, 'PUT', 'api/subscribers/lists', body);
    },
    /** `PUT /api/subscribers/{id}/blocklist`: blocklisted and every list unsubscribed; idempotent. */
    async blocklist(tally: CallTally, id: string): Promise<void> {
      await send(tally, 'PUT', `api/subscribers/${id}/blocklist`);
    },
    /** `GET /api/bounces`: that the API user may read bounces (bounces:get). */
    async canReadBounces(tally: CallTally): Promise<void> {
      await send(tally, 'GET', 'api/bounces?page=1&per_page=1');
    },
  };
}

type ListmonkApi = ReturnType<typeof createListmonkApi>;

export type { ListmonkApi, ListmonkApiOptions, ListmonkBounce, ListmonkSubscriber, ListmonkSubscription };
export { createListmonkApi, exactEmailPattern, sqlEmailCondition };
