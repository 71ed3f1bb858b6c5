/**
 * A Mautic fake that behaves like 4.x/5.x per docs/providers.md "Mautic": the OAuth2
 * client-credentials token endpoint (400 invalid_client), bearer tokens that expire (401
 * invalid_grant), BasicAuth only when enabled (403 otherwise), the API switch (403 api_disabled),
 * contacts filtered by `where[][col|expr|val]` and keyed by id (`[]` when none, `total` a string),
 * DNC add with Mautic's reason handling (default 3, 0 refused, an existing DNC kept or updated as
 * DoNotContact::addDncForContact does), a contact's segments and segment removal.
 */
import { FakeApiServer } from './fake-api-server.ts';
import type { FakeReply, FakeRequest, FakeRoute } from './fake-http-server.ts';

interface FakeMauticOptions {
  clientId?: string;
  clientSecret?: string;
  username?: string;
  password?: string;
  apiEnabled?: boolean;
  basicAuthEnabled?: boolean;
  /** Seconds an access token lives (Mautic's default is 3600). */
  tokenLifetime?: number;
  now?: () => number;
}

interface FakeMauticDnc {
  reason: number;
  comments: string;
}

interface FakeMauticContact {
  id: number;
  email: string;
  dnc: FakeMauticDnc | undefined;
  /** Segment ids the contact is in (manually removed ones are gone from here). */
  segments: Set<number>;
  /** Times a (contact, segment) pair stopped receiving, by segment id. */
  changes: Map<number, number>;
}

const ENDPOINTS = {
  token: 'POST oauth/v2/token',
  contacts: 'GET contacts',
  dncAdd: 'POST contacts/dnc/add',
  segmentsOf: 'GET contacts/segments',
  segmentRemove: 'POST segments/contact/remove',
  notFound: 'unrouted',
} as const;
const MUTATING_ENDPOINTS = [ENDPOINTS.dncAdd, ENDPOINTS.segmentRemove];

function json(status: number, value: unknown): FakeReply {
  return {
    status,
    headers: { 'content-type': 'application/json', 'mautic-version': '5.1.0' },
    // PHP json_encode escapes slashes.
    body: JSON.stringify(value).replace(/\//g, '\\/'),
  };
}

function error(status: number, message: string, type: string | null = null): FakeReply {
  return json(status, { errors: [{ message, code: status, type }] });
}

const notFound = () =>
  json(404, { errors: [{ code: 404, message: 'Item was not found.', details: [], type: null }] });

/** PHP's FILTER_SANITIZE_SPECIAL_CHARS, which InputHelper::clean applies to `where` values. */
function sanitizeSpecialChars(value: string): string {
  return value.replace(/['"&<>\u0000-\u001f]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Form or JSON body (FOSRest's body listener decodes JSON into the request bag). */
function bodyParams(request: FakeRequest): Record<string, string> {
  const type = String(request.headers['content-type'] ?? '');
  if (type.startsWith('application/json')) {
    try {
      return Object.fromEntries(
        Object.entries(JSON.parse(request.body) as Record<string, unknown>).map(([k, v]) => [k, String(v)]),
      );
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(request.body));
}

class FakeMauticServer extends FakeApiServer<FakeMauticOptions> {
  readonly contacts: FakeMauticContact[] = [];
  readonly segments = new Map<number, string>();
  readonly tokens = new Map<string, number>();
  /** Contacts that stopped receiving in a segment, or a DNC that was added or changed. */
  effects = 0;
  #ids = 0;

  static async start(options: FakeMauticOptions): Promise<FakeMauticServer> {
    return new FakeMauticServer(options).listen();
  }

  #now(): number {
    return (this.options.now ?? Date.now)();
  }

  addSegment(name = `Segment ${this.segments.size + 1}`): number {
    this.#ids += 1;
    this.segments.set(this.#ids, name);
    return this.#ids;
  }

  /** Adds `email` to a segment, creating the contact once; returns the contact id. */
  addContact(email: string, segmentId?: number): number {
    let contact = this.contactByEmail(email);
    if (!contact) {
      this.#ids += 1;
      contact = { id: this.#ids, email, dnc: undefined, segments: new Set(), changes: new Map() };
      this.contacts.push(contact);
    }
    if (segmentId !== undefined) contact.segments.add(segmentId);
    return contact.id;
  }

  contactByEmail(email: string): FakeMauticContact | undefined {
    return this.contacts.find((c) => c.email.toLowerCase() === email.toLowerCase());
  }

  contact(id: number): FakeMauticContact | undefined {
    return this.contacts.find((c) => c.id === id);
  }

  /** Whether segment mail still reaches this contact. */
  isActive(contactId: number, segmentId: number): boolean {
    const c = this.contact(contactId);
    return !!c && c.dnc === undefined && c.segments.has(segmentId);
  }

  mutatingRequests(): number {
    return MUTATING_ENDPOINTS.reduce((n, e) => n + this.server.count(e), 0);
  }

  protected route(request: FakeRequest): FakeRoute {
    const path = request.url.pathname;
    const m = request.method;
    if (m === 'POST' && path === '/oauth/v2/token')
      return { endpoint: ENDPOINTS.token, run: () => this.#token(request) };
    const api = (
      endpoint: string,
      handle: (params: string[]) => FakeReply,
      pattern: RegExp,
      method: string,
    ) => {
      const match = pattern.exec(path);
      return match && m === method
        ? { endpoint, run: () => this.#authenticate(request) ?? handle(match.slice(1)) }
        : undefined;
    };
    return (
      api(ENDPOINTS.contacts, () => this.#contacts(request), /^\/api\/contacts$/, 'GET') ??
      api(
        ENDPOINTS.dncAdd,
        ([id, ch]) => this.#addDnc(id!, ch!, request),
        /^\/api\/contacts\/(\d+)\/dnc\/(\w+)\/add$/,
        'POST',
      ) ??
      api(
        ENDPOINTS.segmentsOf,
        ([id]) => this.#segmentsOf(id!),
        /^\/api\/contacts\/(\d+)\/segments$/,
        'GET',
      ) ??
      api(
        ENDPOINTS.segmentRemove,
        ([sid, id]) => this.#removeFromSegment(sid!, id!),
        /^\/api\/segments\/(\d+)\/contact\/(\d+)\/remove$/,
        'POST',
      ) ?? { endpoint: ENDPOINTS.notFound, run: () => notFound() }
    );
  }

  #token(request: FakeRequest): FakeReply {
    const form = bodyParams(request);
    if (form.grant_type !== 'client_credentials')
      return error(400, 'Invalid grant_type parameter or parameter missing', 'invalid_request');
    const known = this.options.clientId !== undefined && form.client_id === this.options.clientId;
    if (!known || form.client_secret !== this.options.clientSecret)
      return error(400, 'The client credentials are invalid', 'invalid_client');
    this.#ids += 1;
    const token = `fake_access_token_${this.#ids}_${Math.floor(this.#now())}`;
    const lifetime = this.options.tokenLifetime ?? 3600;
    this.tokens.set(token, this.#now() + lifetime * 1000);
    return json(200, { access_token: token, expires_in: lifetime, token_type: 'bearer', scope: null });
  }

  /** ApiSubscriber (API switch, BasicAuth switch), then the fos_oauth / http_basic firewall. */
  #authenticate(request: FakeRequest): FakeReply | undefined {
    if (this.options.apiEnabled === false) {
      return error(
        403,
        "API disabled. You need to enable the API in the API settings of Mautic's Configuration.",
        'api_disabled',
      );
    }
    const header = String(request.headers.authorization ?? '');
    if (header.startsWith('Basic ')) {
      if (!(this.options.basicAuthEnabled ?? this.options.username !== undefined))
        return error(
          403,
          "Basic Auth disabled. You need to enable HTTP basic auth in the API settings of Mautic's Configuration.",
          'access_denied',
        );
      const [user, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
      if (user === this.options.username && rest.join(':') === this.options.password) return undefined;
      return error(401, 'Authorization denied, invalid credentials.', 'access_denied');
    }
    if (header.startsWith('Bearer ')) {
      const expiresAt = this.tokens.get(header.slice(7));
      if (expiresAt !== undefined && expiresAt > this.#now()) return undefined;
      return error(401, 'The access token provided is invalid.', 'invalid_grant');
    }
    return error(401, 'API authorization denied.', 'access_denied');
  }

  #render(c: FakeMauticContact, minimal: boolean): Record<string, unknown> {
    const fields = {
      all: { id: c.id, email: c.email, firstname: '', lastname: '' },
      core: { email: { value: c.email } },
    };
    const base = { id: c.id, points: 0, color: null, fields };
    if (minimal) return base;
    const dnc = c.dnc
      ? [{ id: c.id, reason: c.dnc.reason, comments: c.dnc.comments, channel: 'email', channelId: null }]
      : [];
    return {
      ...base,
      isPublished: true,
      dateAdded: '2024-01-01T00:00:00+00:00',
      doNotContact: dnc,
      tags: [],
    };
  }

  #contacts(request: FakeRequest): FakeReply {
    const q = request.url.searchParams;
    let rows = [...this.contacts];
    for (let i = 0; q.has(`where[${i}][col]`); i += 1) {
      const col = q.get(`where[${i}][col]`);
      const expr = q.get(`where[${i}][expr]`);
      const val = sanitizeSpecialChars(q.get(`where[${i}][val]`) ?? '');
      if (col !== 'email' || expr !== 'eq') return error(400, 'this fake filters on email eq only');
      // MySQL's default collation compares case-insensitively.
      rows = rows.filter((c) => c.email.toLowerCase() === val.toLowerCase());
    }
    const search = q.get('search') ?? '';
    if (search.startsWith('email:')) {
      // The `email:` search command is a LIKE on the email column (docs/providers.md "Mautic").
      const needle = search.slice(6).toLowerCase();
      rows = rows.filter((c) => c.email.toLowerCase().includes(needle));
    }
    const limit = Math.max(1, Number(q.get('limit') ?? 30) || 30);
    const minimal = q.get('minimal') === '1' || q.get('minimal') === 'true';
    const page = rows.slice(0, limit);
    const contacts =
      page.length === 0 ? [] : Object.fromEntries(page.map((c) => [String(c.id), this.#render(c, minimal)]));
    return json(200, { total: String(rows.length), contacts });
  }

  /** Runs `change` and counts each (contact, segment) it took out of mail. */
  #tracked(c: FakeMauticContact, change: () => void): void {
    const before = [...c.segments].filter((s) => this.isActive(c.id, s));
    change();
    for (const s of before) {
      if (this.isActive(c.id, s)) continue;
      c.changes.set(s, (c.changes.get(s) ?? 0) + 1);
      this.effects += 1;
    }
  }

  #addDnc(id: string, channel: string, request: FakeRequest): FakeReply {
    const contact = this.contact(Number(id));
    if (!contact) return notFound();
    const params = bodyParams(request);
    const reason = params.reason === undefined ? 3 : Number.parseInt(params.reason, 10) || 0;
    if (reason === 0)
      return json(400, {
        errors: [
          {
            code: 400,
            message: 'Invalid reason code given',
            details: ['Reason code needs to be an integer and higher than 0.'],
            type: null,
          },
        ],
      });
    if (channel === 'email') {
      const comments = (params.comments ?? '').replace(/<[^>]*>/g, '');
      // addDncForContact: create; or update a different reason unless the contact unsubscribed.
      if (!contact.dnc) this.#tracked(contact, () => (contact.dnc = { reason, comments }));
      else if (contact.dnc.reason !== reason && contact.dnc.reason !== 1) {
        contact.dnc = { reason, comments };
        this.effects += 1;
      }
    }
    return json(200, { contact: this.#render(contact, false) });
  }

  #segmentsOf(id: string): FakeReply {
    const contact = this.contact(Number(id));
    if (!contact) return notFound();
    const lists = Object.fromEntries(
      [...contact.segments].map((s) => [
        String(s),
        {
          id: s,
          name: this.segments.get(s) ?? '',
          alias: `segment-${s}`,
          dateAdded: '2024-01-01 00:00:00',
          manuallyAdded: false,
          manuallyRemoved: false,
        },
      ]),
    );
    return json(200, { total: contact.segments.size, lists: contact.segments.size === 0 ? [] : lists });
  }

  #removeFromSegment(segmentId: string, id: string): FakeReply {
    const contact = this.contact(Number(id));
    if (!this.segments.has(Number(segmentId)) || !contact) return notFound();
    this.#tracked(contact, () => contact.segments.delete(Number(segmentId)));
    return json(200, { success: 1 });
  }
}

export type { FakeMauticContact, FakeMauticOptions };
export { ENDPOINTS as MAUTIC_ENDPOINTS, FakeMauticServer, MUTATING_ENDPOINTS as MAUTIC_MUTATING_ENDPOINTS };
