/**
 * A listmonk fake that behaves like v5/v6 (or v4: no `search`) per docs/providers.md "listmonk":
 * `Authorization: token user:key` or BasicAuth checked as internal/auth does (403 with listmonk's
 * messages, a session cookie makes it ignore the header), permissions per route, the subscribers
 * query with the POSIX-regex `search` or the SQL `query` (which needs subscribers:sql_query), the
 * bounce webhook with listmonk's validation, its 503 when bounce processing is off and its bounce
 * actions (count and blocklist / unsubscribe / delete per type, as the record-bounce query does).
 */
import { FakeApiServer } from './fake-api-server.ts';
import type { FakeReply, FakeRequest, FakeRoute } from './fake-http-server.ts';

type BounceType = 'hard' | 'soft' | 'complaint';
interface BounceAction {
  count: number;
  action: 'none' | 'blocklist' | 'unsubscribe' | 'delete';
}

interface FakeListmonkOptions {
  username: string;
  token: string;
  /** `v4`: no `search` parameter (ignored) and no `search` in the answer. Default v6. */
  version?: 'v4' | 'v6';
  /** Permissions of the API user; all when absent. */
  permissions?: readonly string[];
  bounceEnabled?: boolean;
  webhooksEnabled?: boolean;
  bounceActions?: Partial<Record<BounceType, BounceAction>>;
}

interface FakeListmonkSubscription {
  listId: number;
  status: 'unconfirmed' | 'confirmed' | 'unsubscribed';
  /** Times this subscription went from receiving mail to not (exactly-once assertions). */
  changes: number;
}

interface FakeListmonkSubscriber {
  id: number;
  uuid: string;
  email: string;
  name: string;
  status: 'enabled' | 'disabled' | 'blocklisted';
  lists: FakeListmonkSubscription[];
  deleted: boolean;
}

interface FakeListmonkBounce {
  subscriberId: number;
  type: BounceType;
  source: string;
  campaignUuid: string | undefined;
  meta: Record<string, unknown>;
}

const ENDPOINTS = {
  query: 'GET subscribers',
  get: 'GET subscriber',
  subscriberBounces: 'GET subscriber bounces',
  bounces: 'GET bounces',
  webhook: 'POST webhooks/bounce',
  lists: 'PUT subscribers/lists',
  blocklist: 'PUT subscriber blocklist',
  notFound: 'unrouted',
} as const;
const MUTATING_ENDPOINTS = [ENDPOINTS.webhook, ENDPOINTS.lists, ENDPOINTS.blocklist];

const DEFAULT_ACTIONS: Record<BounceType, BounceAction> = {
  soft: { count: 2, action: 'none' },
  hard: { count: 1, action: 'blocklist' },
  complaint: { count: 1, action: 'blocklist' },
};
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SQL_EMAIL = /^LOWER\(subscribers\.email\) = '((?:[^']|'')*)'$/;

function json(status: number, value: unknown): FakeReply {
  return {
    status,
    headers: { 'content-type': 'application/json; charset=UTF-8' },
    body: JSON.stringify(value),
  };
}
const fail = (status: number, message: string) => json(status, { message });
const isReply = (value: object): value is FakeReply => 'body' in value && 'status' in value;
const ok = (data: unknown) => json(200, { data });

interface RouteDef {
  method: string;
  pattern: RegExp;
  endpoint: string;
  /** Any one of these is enough (listmonk's Perm middleware). */
  perms: readonly string[];
  handle(params: string[], request: FakeRequest): FakeReply;
}

class FakeListmonkServer extends FakeApiServer<FakeListmonkOptions> {
  readonly lists = new Map<number, string>();
  readonly subscribers: FakeListmonkSubscriber[] = [];
  readonly bounces: FakeListmonkBounce[] = [];
  /** Every bounce post accepted (listmonk queues them all; it inserts only some), by address. */
  readonly posts = new Map<string, number>();
  /** Subscriptions taken out of mail, subscribers deleted, bounces recorded. */
  effects = 0;
  #ids = 0;

  static async start(options: FakeListmonkOptions): Promise<FakeListmonkServer> {
    return new FakeListmonkServer(options).listen();
  }

  addList(name = `List ${this.lists.size + 1}`): number {
    this.#ids += 1;
    this.lists.set(this.#ids, name);
    return this.#ids;
  }

  /** Subscribes `email` to `listId` (creating the subscriber once); returns the subscriber id. */
  subscribe(email: string, listId: number, status: FakeListmonkSubscription['status'] = 'confirmed'): number {
    let subscriber = this.subscriberByEmail(email);
    if (!subscriber) {
      this.#ids += 1;
      const hex = this.#ids.toString(16).padStart(12, '0');
      subscriber = {
        id: this.#ids,
        uuid: `00000000-0000-4000-8000-${hex}`,
        email: email.toLowerCase(),
        name: email.split('@')[0] ?? email,
        status: 'enabled',
        lists: [],
        deleted: false,
      };
      this.subscribers.push(subscriber);
    }
    subscriber.lists.push({ listId, status, changes: 0 });
    return subscriber.id;
  }

  subscriberByEmail(email: string): FakeListmonkSubscriber | undefined {
    return this.subscribers.find((s) => !s.deleted && s.email === email.toLowerCase());
  }

  subscriberById(id: number): FakeListmonkSubscriber | undefined {
    return this.subscribers.find((s) => !s.deleted && s.id === id);
  }

  /** Whether this subscription still receives campaigns. */
  isActive(subscriberId: number, listId: number): boolean {
    const s = this.subscriberById(subscriberId);
    const l = s?.lists.find((x) => x.listId === listId);
    return !!s && !!l && s.status !== 'blocklisted' && l.status !== 'unsubscribed';
  }

  mutatingRequests(): number {
    return MUTATING_ENDPOINTS.reduce((n, e) => n + this.server.count(e), 0);
  }

  #routes(): RouteDef[] {
    const read = ['subscribers:get_all', 'subscribers:get'];
    const manage = ['subscribers:manage'];
    return [
      {
        method: 'GET',
        pattern: /^\/api\/subscribers$/,
        endpoint: ENDPOINTS.query,
        perms: read,
        handle: (_p, r) => this.#query(r),
      },
      {
        method: 'GET',
        pattern: /^\/api\/subscribers\/([^/]+)$/,
        endpoint: ENDPOINTS.get,
        perms: read,
        handle: ([id]) => this.#get(id!),
      },
      {
        method: 'GET',
        pattern: /^\/api\/subscribers\/([^/]+)\/bounces$/,
        endpoint: ENDPOINTS.subscriberBounces,
        perms: ['bounces:get'],
        handle: ([id]) => this.#subscriberBounces(id!),
      },
      {
        method: 'GET',
        pattern: /^\/api\/bounces$/,
        endpoint: ENDPOINTS.bounces,
        perms: ['bounces:get'],
        handle: () => ok({ results: [], total: this.bounces.length }),
      },
      {
        method: 'PUT',
        pattern: /^\/api\/subscribers\/lists$/,
        endpoint: ENDPOINTS.lists,
        perms: manage,
        handle: (_p, r) => this.#manageLists(r),
      },
      {
        method: 'PUT',
        pattern: /^\/api\/subscribers\/([^/]+)\/blocklist$/,
        endpoint: ENDPOINTS.blocklist,
        perms: manage,
        handle: ([id]) => this.#blocklist(id!),
      },
      ...(this.options.webhooksEnabled === false
        ? []
        : [
            {
              method: 'POST',
              pattern: /^\/webhooks\/bounce$/,
              endpoint: ENDPOINTS.webhook,
              perms: ['webhooks:post_bounce'],
              handle: (_p: string[], r: FakeRequest) => this.#webhook(r),
            },
          ]),
    ];
  }

  protected route(request: FakeRequest): FakeRoute {
    for (const def of this.#routes()) {
      const match = def.pattern.exec(request.url.pathname);
      if (!match || def.method !== request.method) continue;
      return {
        endpoint: def.endpoint,
        run: () => this.#authenticate(request, def.perms) ?? def.handle(match.slice(1), request),
      };
    }
    // Unknown routes still pass the auth middleware first.
    return {
      endpoint: ENDPOINTS.notFound,
      run: () => this.#authenticate(request, []) ?? fail(404, 'Not Found'),
    };
  }

  /** internal/auth: parse the header, check the token, then the route's permission. */
  #authenticate(request: FakeRequest, perms: readonly string[]): FakeReply | undefined {
    const cookie = String(request.headers.cookie ?? '');
    const header = cookie.includes('session=') ? '' : String(request.headers.authorization ?? '').trim();
    if (!header) return fail(403, 'invalid session');
    let pair: string[];
    if (header.startsWith('token')) pair = header.slice(5).trim().split(/:(.*)/s, 2);
    else if (header.startsWith('Basic')) {
      const encoded = header.slice(5).trim();
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded))
        return fail(403, 'code=400, message=invalid Base64 value in Basic Authorization header');
      pair = Buffer.from(encoded, 'base64').toString('utf8').split(/:(.*)/s, 2);
    } else return fail(403, 'code=400, message=unknown Authorization scheme');
    if (pair.length < 2) return fail(403, 'code=400, message=api_key:token missing');
    if (pair[0] !== this.options.username || pair[1] !== this.options.token) {
      return fail(403, 'invalid API credentials');
    }
    const granted = this.options.permissions;
    if (granted && perms.length > 0 && !perms.some((p) => granted.includes(p))) {
      return fail(403, `permission denied: ${perms[perms.length - 1]}`);
    }
    return undefined;
  }

  #render(s: FakeListmonkSubscriber): Record<string, unknown> {
    return {
      id: s.id,
      uuid: s.uuid,
      email: s.email,
      name: s.name,
      attribs: {},
      status: s.status,
      lists: s.lists.map((l) => ({
        id: l.listId,
        uuid: `11111111-0000-4000-8000-${l.listId.toString(16).padStart(12, '0')}`,
        name: this.lists.get(l.listId) ?? '',
        type: 'private',
        subscription_status: l.status,
      })),
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
    };
  }

  #query(request: FakeRequest): FakeReply {
    const params = request.url.searchParams;
    const query = (params.get('query') ?? '').trim();
    const v4 = this.options.version === 'v4';
    const search = v4 ? '' : (params.get('search') ?? '').trim();
    if (
      query &&
      !v4 &&
      this.options.permissions &&
      !this.options.permissions.includes('subscribers:sql_query')
    )
      return fail(403, 'Permission denied: subscribers:sql_query');
    let rows = this.subscribers.filter((s) => !s.deleted);
    if (query) {
      const m = SQL_EMAIL.exec(query);
      if (!m) return fail(400, 'Error querying subscribers: unsupported expression in this fake');
      const wanted = m[1]!.replaceAll("''", "'");
      rows = rows.filter((s) => s.email.toLowerCase() === wanted);
    }
    if (search) {
      // Postgres `~*`: case-insensitive POSIX regex on name or email.
      const pattern = new RegExp(search, 'i');
      rows = rows.filter((s) => pattern.test(s.email) || pattern.test(s.name));
    }
    const perPage = Math.max(1, Number(params.get('per_page') ?? 20) || 20);
    const page = Math.max(1, Number(params.get('page') ?? 1) || 1);
    const results = rows.slice((page - 1) * perPage, page * perPage).map((s) => this.#render(s));
    return ok({ results, query, ...(v4 ? {} : { search }), total: rows.length, per_page: perPage, page });
  }

  #byIdParam(id: string): FakeListmonkSubscriber | FakeReply {
    if (!/^\d+$/.test(id) || Number(id) < 1) return fail(400, 'Invalid ID(s)');
    return this.subscriberById(Number(id)) ?? fail(404, 'Subscriber not found');
  }

  #get(id: string): FakeReply {
    const found = this.#byIdParam(id);
    return isReply(found) ? found : ok(this.#render(found));
  }

  #subscriberBounces(id: string): FakeReply {
    const found = this.#byIdParam(id);
    if (isReply(found)) return found;
    const rows = this.bounces
      .filter((b) => b.subscriberId === found.id)
      .map((b, i) => ({ id: i + 1, type: b.type, source: b.source, meta: b.meta, email: found.email }));
    return ok(rows);
  }

  /** Runs `change` and counts every subscription it took out of mail. */
  #tracked(s: FakeListmonkSubscriber, change: () => void): void {
    const before = s.lists.map((l) => this.isActive(s.id, l.listId));
    change();
    s.lists.forEach((l, i) => {
      if (before[i] && !this.isActive(s.id, l.listId)) {
        l.changes += 1;
        this.effects += 1;
      }
    });
  }

  #jsonBody(request: FakeRequest): FakeReply | Record<string, unknown> {
    // echo's Bind: JSON only with a JSON content type.
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json'))
      return fail(400, 'One or more IDs are invalid: code=415, message=Unsupported Media Type');
    try {
      const parsed: unknown = JSON.parse(request.body);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
        return parsed as Record<string, unknown>;
    } catch {
      // fall through
    }
    return fail(400, 'One or more IDs are invalid: invalid JSON');
  }

  #manageLists(request: FakeRequest): FakeReply {
    const req = this.#jsonBody(request);
    if (isReply(req)) return req;
    const ids = Array.isArray(req.ids) ? (req.ids as unknown[]).map(Number) : [];
    const targets = Array.isArray(req.target_list_ids) ? (req.target_list_ids as unknown[]).map(Number) : [];
    if (ids.length === 0) return fail(400, 'No IDs given.');
    if (targets.length === 0) return fail(400, 'No lists given.');
    if (req.action !== 'unsubscribe') return fail(400, 'Invalid action.');
    for (const id of ids) {
      const s = this.subscriberById(id);
      if (!s) continue;
      this.#tracked(s, () => {
        for (const l of s.lists) if (targets.includes(l.listId)) l.status = 'unsubscribed';
      });
    }
    return ok(true);
  }

  #blocklist(id: string): FakeReply {
    const found = this.#byIdParam(id);
    if (isReply(found)) return found;
    this.#tracked(found, () => {
      found.status = 'blocklisted';
      for (const l of found.lists) l.status = 'unsubscribed';
    });
    return ok(true);
  }

  #webhook(request: FakeRequest): FakeReply {
    if (this.options.bounceEnabled === false) return fail(503, 'Internal server error');
    let bounce: Record<string, unknown>;
    try {
      bounce = JSON.parse(request.body) as Record<string, unknown>;
      if (!bounce || typeof bounce !== 'object' || Array.isArray(bounce)) throw new Error('not an object');
    } catch (error) {
      return fail(400, `Invalid data:${String(error)}`);
    }
    const email = typeof bounce.email === 'string' ? bounce.email.trim().toLowerCase() : '';
    const uuid = typeof bounce.subscriber_uuid === 'string' ? bounce.subscriber_uuid : '';
    if (!email && !uuid) return fail(400, 'Invalid fields: email / subscriber_uuid');
    if (uuid && !UUID.test(uuid)) return fail(400, 'Invalid fields: subscriber_uuid');
    if (email && !/^[^\s@]+@[^\s@]+$/.test(email)) return fail(400, 'invalid email');
    const type = bounce.type;
    if (type !== 'hard' && type !== 'soft' && type !== 'complaint') return fail(400, 'Invalid fields: type');
    const campaign = typeof bounce.campaign_uuid === 'string' ? bounce.campaign_uuid : undefined;
    const meta =
      bounce.meta && typeof bounce.meta === 'object' ? (bounce.meta as Record<string, unknown>) : {};
    const subscriber = uuid
      ? this.subscribers.find((s) => !s.deleted && s.uuid === uuid)
      : this.subscriberByEmail(email);
    // listmonk queues it and answers at once; an unknown subscriber is only logged there.
    if (subscriber) this.posts.set(subscriber.email, (this.posts.get(subscriber.email) ?? 0) + 1);
    if (subscriber) this.#recordBounce(subscriber, type, String(bounce.source ?? ''), campaign, meta);
    return ok(true);
  }

  /** queries/bounces.sql record-bounce, step by step. */
  #recordBounce(
    s: FakeListmonkSubscriber,
    type: BounceType,
    source: string,
    campaignUuid: string | undefined,
    meta: Record<string, unknown>,
  ): void {
    const { count, action } = { ...DEFAULT_ACTIONS, ...this.options.bounceActions }[type];
    const num = this.bounces.filter((b) => b.subscriberId === s.id && b.type === type).length + 1;
    const wasBlocklisted = s.status === 'blocklisted';
    this.#tracked(s, () => {
      if (action === 'blocklist' && num >= count && !wasBlocklisted) s.status = 'blocklisted';
      if (action === 'unsubscribe' && num >= count && !wasBlocklisted)
        for (const l of s.lists) l.status = 'unsubscribed';
    });
    if (!wasBlocklisted && num <= count) {
      this.bounces.push({ subscriberId: s.id, type, source, campaignUuid, meta });
      this.effects += 1;
    }
    if (action === 'delete' && num >= count) {
      this.#tracked(s, () => {
        s.deleted = true;
      });
    }
  }
}

export type { FakeListmonkBounce, FakeListmonkOptions, FakeListmonkSubscriber, FakeListmonkSubscription };
export {
  ENDPOINTS as LISTMONK_ENDPOINTS,
  FakeListmonkServer,
  MUTATING_ENDPOINTS as LISTMONK_MUTATING_ENDPOINTS,
};
