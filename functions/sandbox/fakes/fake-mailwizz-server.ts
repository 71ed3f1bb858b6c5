/**
 * A MailWizz API fake that behaves like 1.9.4 (v1: signed requests) or 2.1.13 (v2: X-API-KEY)
 * per docs/provider-apis.md §1: routes on the real verb (POST + X-HTTP-Method-Override → 400), auth errors
 * as 400 with the exact strings, the v1 signature recomputed from the received request, form
 * bodies only, subscriber statuses with MailWizz's semantics, and PHP-style JSON.
 */
import { signMailwizzRequest } from '#providers/mailwizz/mailwizz-signature.ts';
import { FakeApiServer } from './fake-api-server.ts';
import type { FakeReply, FakeRequest } from './fake-http-server.ts';

interface FakeMailwizzOptions {
  mode: 'v1' | 'v2';
  /** The 2.x key, or the 1.x public key. */
  apiKey: string;
  /** 1.x only. */
  privateKey?: string;
  /** Old PHP/PDO returns `count` as a string. */
  countAsString?: boolean;
  /** Server clock in ms, for the 1.x timestamp window. */
  now?: () => number;
  /**
   * How a subscriber record shows EMAIL: `masked` as 2.x with the customer-group option
   * `common.mask_email_addresses`, `html` HTML-escaped as 1.x (CHtml::encode). Default plain.
   */
  recordEmail?: 'plain' | 'masked' | 'html';
}

interface FakeMailwizzList {
  uid: string;
  name: string;
  archived: boolean;
  /** Tags of the list's required custom fields besides EMAIL. */
  required: string[];
}

interface FakeMailwizzSubscriber {
  uid: string;
  listUid: string;
  email: string;
  status: string;
  /** Status changes made through the API (exactly-once assertions). */
  changes: number;
  /** Custom field values by tag (FNAME, ...), EMAIL aside. */
  fields: Record<string, string>;
}

const ENDPOINTS = {
  siteIndex: 'GET /',
  lists: 'GET lists',
  searchAll: 'GET search-by-email-in-all-lists',
  unsubscribeAll: 'PUT unsubscribe-by-email-from-all-lists',
  getSubscriber: 'GET subscriber',
  updateSubscriber: 'PUT subscriber',
  unsubscribeOne: 'PUT subscriber-unsubscribe',
  bounce: 'POST campaign-bounces',
  notFound: 'unrouted',
} as const;

/** The endpoints that change state, for "no mutating call" assertions. */
const MUTATING_ENDPOINTS = [
  ENDPOINTS.unsubscribeAll,
  ENDPOINTS.unsubscribeOne,
  ENDPOINTS.bounce,
  ENDPOINTS.updateSubscriber,
];

const ERRORS = {
  params: 'Invalid API request params. Please refer to the documentation.',
  key: 'Invalid API key. Please refer to the documentation.',
  expired: 'Your request expired. Please refer to the documentation.',
  signature: 'Invalid API request signature. Please refer to the documentation.',
} as const;

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** PHP json_encode escapes slashes. */
function phpJson(value: unknown): string {
  return JSON.stringify(value).replace(/\//g, '\\/');
}

function json(status: number, value: unknown): FakeReply {
  return { status, headers: { 'content-type': 'application/json; charset=utf-8' }, body: phpJson(value) };
}

function error(status: number, message: string): FakeReply {
  return json(status, { status: 'error', error: message });
}

interface RouteDef {
  method: 'GET' | 'PUT' | 'POST';
  pattern: RegExp;
  endpoint: string;
  handle(params: string[], form: Record<string, string>, query: URLSearchParams): FakeReply;
}

class FakeMailwizzServer extends FakeApiServer<FakeMailwizzOptions> {
  readonly lists = new Map<string, FakeMailwizzList>();
  readonly subscribers: FakeMailwizzSubscriber[] = [];
  readonly campaigns = new Set<string>();
  readonly bounces: Array<{ campaignUid: string; subscriberUid: string; type: string }> = [];
  readonly blacklist = new Set<string>();
  /** State changes made (a status that really changed, a bounce recorded). */
  effects = 0;
  #counter = 0;
  /**
   * Subscribers by lower-cased address, in insertion order (MailWizz's email index): the by-email
   * endpoints cost the same at 10 and at 10,000 subscribers, so benchmarks time the client.
   */
  readonly #byEmail = new Map<string, FakeMailwizzSubscriber[]>();

  static async start(options: FakeMailwizzOptions): Promise<FakeMailwizzServer> {
    return new FakeMailwizzServer(options).listen();
  }

  /** Base URL of the API app, as configured in `providers[].url`. */
  override get url(): string {
    return `${this.server.url}/api`;
  }

  #uid(prefix: string): string {
    this.#counter += 1;
    return `${prefix}${this.#counter.toString(36).padStart(12, '0')}`;
  }

  /** `uid`: a given list uid (e.g. one logged in a sample file), else a generated one. */
  addList(name = `List ${this.lists.size + 1}`, uid = this.#uid('l')): string {
    this.lists.set(uid, { uid, name, archived: false, required: [] });
    return uid;
  }

  /** `uid`: a given subscriber uid (e.g. of an anonymised complaint), else a generated one. */
  addSubscriber(listUid: string, email: string, status = 'confirmed', uid = this.#uid('s')): string {
    const subscriber = { uid, listUid, email, status, changes: 0, fields: {} };
    this.subscribers.push(subscriber);
    const key = email.toLowerCase();
    const same = this.#byEmail.get(key);
    if (same) same.push(subscriber);
    else this.#byEmail.set(key, [subscriber]);
    return uid;
  }

  addCampaign(): string {
    const uid = this.#uid('c');
    this.campaigns.add(uid);
    return uid;
  }

  subscriber(uid: string): FakeMailwizzSubscriber | undefined {
    return this.subscribers.find((s) => s.uid === uid);
  }

  mutatingRequests(): number {
    return MUTATING_ENDPOINTS.reduce((n, e) => n + this.server.count(e), 0);
  }

  #routes(): RouteDef[] {
    return [
      {
        method: 'GET',
        pattern: /^lists$/,
        endpoint: ENDPOINTS.lists,
        handle: (_p, _f, q) => this.#listsIndex(q),
      },
      {
        method: 'GET',
        pattern: /^lists\/subscribers\/search-by-email-in-all-lists$/,
        endpoint: ENDPOINTS.searchAll,
        handle: (_p, _f, q) => this.#searchAll(q.get('EMAIL') ?? ''),
      },
      {
        method: 'PUT',
        pattern: /^lists\/subscribers\/unsubscribe-by-email-from-all-lists$/,
        endpoint: ENDPOINTS.unsubscribeAll,
        handle: (_p, f) => this.#unsubscribeAll(f.EMAIL ?? ''),
      },
      {
        method: 'PUT',
        pattern: /^lists\/([a-z0-9]+)\/subscribers\/([a-z0-9]+)\/unsubscribe$/,
        endpoint: ENDPOINTS.unsubscribeOne,
        handle: ([l, s]) => this.#unsubscribeOne(l!, s!),
      },
      {
        method: 'GET',
        pattern: /^lists\/([a-z0-9]+)\/subscribers\/([a-z0-9]+)$/,
        endpoint: ENDPOINTS.getSubscriber,
        handle: ([l, s]) => this.#getSubscriber(l!, s!),
      },
      {
        method: 'PUT',
        pattern: /^lists\/([a-z0-9]+)\/subscribers\/([a-z0-9]+)$/,
        endpoint: ENDPOINTS.updateSubscriber,
        handle: ([l, s], f) => this.#update(l!, s!, f),
      },
      {
        method: 'POST',
        pattern: /^campaigns\/([a-z0-9]+)\/bounces$/,
        endpoint: ENDPOINTS.bounce,
        handle: ([c], f) => this.#bounce(c!, f),
      },
    ];
  }

  protected route(request: FakeRequest) {
    const path = request.url.pathname.replace(/^\/api\/?/, '').replace(/\/$/, '');
    if (!request.url.pathname.startsWith('/api')) {
      return { endpoint: ENDPOINTS.notFound, run: () => error(404, 'Page not found.') };
    }
    if (path === '' && request.method === 'GET')
      return { endpoint: ENDPOINTS.siteIndex, run: () => json(200, []) };
    const override = String(request.headers['x-http-method-override'] ?? '').toUpperCase();
    for (const def of this.#routes()) {
      const match = def.pattern.exec(path);
      if (!match) continue;
      // The URL rules honour the override header; the controller then checks the real verb.
      if (def.method !== request.method && def.method !== override) continue;
      return {
        endpoint: def.endpoint,
        run: (): FakeReply => {
          const form = this.#form(request);
          const denied = this.#authenticate(request, form);
          if (denied) return denied;
          if (def.method !== request.method)
            return error(400, `Only ${def.method} requests allowed for this endpoint.`);
          return def.handle(match.slice(1), form, request.url.searchParams);
        },
      };
    }
    return { endpoint: ENDPOINTS.notFound, run: () => error(404, 'Page not found.') };
  }

  /** PHP fills the params only from a form-encoded body. */
  #form(request: FakeRequest): Record<string, string> {
    const type = String(request.headers['content-type'] ?? '');
    if (!type.startsWith('application/x-www-form-urlencoded')) return {};
    return Object.fromEntries(new URLSearchParams(request.body));
  }

  #authenticate(request: FakeRequest, form: Record<string, string>): FakeReply | undefined {
    const h = request.headers;
    if (this.options.mode === 'v2') {
      const key = String(h['x-api-key'] ?? h['x-mw-public-key'] ?? '');
      if (!key) return error(400, ERRORS.params);
      if (key !== this.options.apiKey) return error(400, ERRORS.key);
      return undefined;
    }
    const publicKey = String(h['x-mw-public-key'] ?? '');
    const timestamp = String(h['x-mw-timestamp'] ?? '');
    const signature = String(h['x-mw-signature'] ?? '');
    if (!publicKey || !timestamp || !signature) return error(400, ERRORS.params);
    if (publicKey !== this.options.apiKey) return error(400, ERRORS.key);
    const now = Math.floor((this.options.now ?? Date.now)() / 1000);
    if (!/^\d+$/.test(timestamp) || Number(timestamp) + 900 < now) return error(400, ERRORS.expired);
    // Rebuild the URL from the server's own view of the request, as createAbsoluteUrl does.
    const url = `http://${h.host}${request.url.pathname.replace(/\/$/, '')}`;
    const input = {
      method: request.method,
      url,
      query: Object.fromEntries(request.url.searchParams),
      body: form,
      publicKey,
      timestamp,
      remoteAddr: String(h['x-mw-remote-addr'] ?? ''),
    };
    const expected = signMailwizzRequest(input, this.options.privateKey ?? '');
    if (expected !== signature) return error(400, ERRORS.signature);
    return undefined;
  }

  #count(n: number): number | string | null {
    if (n === 0) return null;
    return this.options.countAsString ? String(n) : n;
  }

  #listsIndex(query: URLSearchParams): FakeReply {
    const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
    const perPage = Math.min(50, Math.max(10, Number(query.get('per_page') ?? 10) || 10));
    const lists = [...this.lists.values()].filter((l) => !l.archived).reverse();
    const total = lists.length;
    const totalPages = Math.ceil(total / perPage);
    const records = lists.slice((page - 1) * perPage, page * perPage).map((l) => ({
      general: { list_uid: l.uid, name: l.name, display_name: l.name, description: '' },
      defaults: [],
    }));
    return json(200, {
      status: 'success',
      data: {
        count: this.#count(total),
        total_pages: total === 0 ? null : totalPages,
        current_page: total === 0 ? null : page,
        next_page: page < totalPages ? page + 1 : null,
        prev_page: page > 1 && total > 0 ? page - 1 : null,
        records,
      },
    });
  }

  #withEmail(email: string): FakeMailwizzSubscriber[] {
    return this.#byEmail.get(email.toLowerCase()) ?? [];
  }

  #emailError(email: string): FakeReply | undefined {
    if (!email) return error(422, 'Please provide the subscriber email address.');
    if (!EMAIL_PATTERN.test(email)) return error(422, 'Please provide a valid email address.');
    return undefined;
  }

  #searchAll(email: string): FakeReply {
    const bad = this.#emailError(email);
    if (bad) return bad;
    const records = this.#withEmail(email)
      .filter((s) => !this.lists.get(s.listUid)?.archived)
      .slice(0, 100)
      .map((s) => {
        const list = this.lists.get(s.listUid)!;
        return {
          subscriber_uid: s.uid,
          email: s.email,
          status: s.status,
          source: 'api',
          ip_address: '',
          list: { list_uid: list.uid, display_name: list.name, name: list.name },
          date_added: '2024-01-01 10:00:00',
        };
      });
    return json(200, {
      status: 'success',
      data: {
        records,
        count: this.options.countAsString ? String(records.length) : records.length,
        current_page: 1,
        next_page: null,
        prev_page: null,
        total_pages: 1,
      },
    });
  }

  #unsubscribeAll(email: string): FakeReply {
    const bad = this.#emailError(email);
    if (bad) return bad;
    for (const s of this.#withEmail(email)) {
      if (!this.lists.has(s.listUid)) continue;
      // Every status becomes unsubscribed, blacklisted and unconfirmed included (§1.4 g).
      if (s.status !== 'unsubscribed') {
        s.status = 'unsubscribed';
        s.changes += 1;
        this.effects += 1;
      }
    }
    return json(200, { status: 'success' });
  }

  #findInList(
    listUid: string,
    subscriberUid: string,
  ): { subscriber: FakeMailwizzSubscriber } | { reply: FakeReply } {
    if (!this.lists.has(listUid)) return { reply: error(404, 'The subscribers list does not exist.') };
    const subscriber = this.subscribers.find((x) => x.uid === subscriberUid && x.listUid === listUid);
    return subscriber ? { subscriber } : { reply: error(404, 'The subscriber does not exist in this list.') };
  }

  #unsubscribeOne(listUid: string, subscriberUid: string): FakeReply {
    const found = this.#findInList(listUid, subscriberUid);
    if ('reply' in found) return found.reply;
    const { subscriber } = found;
    // Only a confirmed subscriber changes; anything else is success without change (§1.4 f).
    if (subscriber.status === 'confirmed') {
      subscriber.status = 'unsubscribed';
      subscriber.changes += 1;
      this.effects += 1;
    }
    return json(200, { status: 'success' });
  }

  #recordEmail(email: string): string {
    if (this.options.recordEmail === 'masked') {
      const at = email.indexOf('@');
      return `${email.slice(0, 2)}${'*'.repeat(Math.max(1, at - 2))}${email.slice(at)}`;
    }
    if (this.options.recordEmail === 'html')
      return email.replace(/&/g, '&amp;').replace(/'/g, '&#039;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return email;
  }

  #getSubscriber(listUid: string, subscriberUid: string): FakeReply {
    const found = this.#findInList(listUid, subscriberUid);
    if ('reply' in found) return found.reply;
    const s = found.subscriber;
    return json(200, {
      status: 'success',
      data: {
        record: {
          subscriber_uid: s.uid,
          status: s.status,
          source: 'api',
          ip_address: '',
          EMAIL: this.#recordEmail(s.email),
          ...s.fields,
        },
      },
    });
  }

  /**
   * ListSubscriber::addToBlacklist → EmailBlacklist::addToBlacklist: a new email_blacklist row
   * blacklists every confirmed row of the address (afterSave, all lists of every customer); when
   * the row existed, only this subscriber is blacklisted.
   */
  #addToBlacklist(subscriber: FakeMailwizzSubscriber): void {
    const email = subscriber.email.toLowerCase();
    const isNew = !this.blacklist.has(email);
    this.blacklist.add(email);
    const rows = isNew ? this.#withEmail(email) : [subscriber];
    for (const s of rows) this.#setStatus(s, s.status === 'confirmed' ? 'blacklisted' : s.status);
  }

  #setStatus(s: FakeMailwizzSubscriber, status: string): void {
    if (s.status === status) return;
    s.status = status;
    s.changes += 1;
    this.effects += 1;
  }

  /** actionUpdate: 409 for a missing subscriber or a blacklisted address, required fields checked. */
  #update(listUid: string, subscriberUid: string, form: Record<string, string>): FakeReply {
    const list = this.lists.get(listUid);
    if (!list) return error(404, 'The subscribers list does not exist.');
    const s = this.subscribers.find((x) => x.uid === subscriberUid && x.listUid === listUid);
    if (!s) return error(409, 'The subscriber does not exist in this list.');
    const email = form.EMAIL ?? s.email;
    if (!EMAIL_PATTERN.test(email)) return error(422, 'Please provide a valid email address.');
    if (this.blacklist.has(email.toLowerCase())) return error(409, 'This email address is blacklisted.');
    const missing = list.required.filter((tag) => !form[tag]);
    if (missing.length > 0) {
      const messages = Object.fromEntries(
        missing.map((t) => [t, `The field ${t} is required by the list but it has not been provided!`]),
      );
      return json(422, { status: 'error', error: messages });
    }
    const status = form['details[status]'];
    if (status !== undefined) {
      if (!['confirmed', 'unconfirmed', 'unsubscribed', 'blacklisted'].includes(status))
        return json(422, {
          status: 'error',
          error: { status: 'Status is not in the list of valid values.' },
        });
      this.#setStatus(s, status);
    }
    for (const tag of list.required) s.fields[tag] = form[tag]!;
    return json(200, {
      status: 'success',
      data: {
        record: {
          subscriber_uid: s.uid,
          email: s.email,
          ip_address: '',
          source: 'api',
          date_added: '2024-01-01 10:00:00',
        },
      },
    });
  }

  #bounce(campaignUid: string, form: Record<string, string>): FakeReply {
    if (!this.campaigns.has(campaignUid)) return error(404, 'The campaign does not exist!');
    const subscriber = this.subscribers.find((s) => s.uid === form.subscriber_uid);
    if (!subscriber) return error(404, 'The subscriber does not exist!');
    const type = form.bounce_type || 'internal';
    if (!['internal', 'soft', 'hard'].includes(type)) return error(422, 'Invalid bounce type!');
    if (this.bounces.some((b) => b.campaignUid === campaignUid && b.subscriberUid === subscriber.uid)) {
      return error(422, 'This subscriber has already been marked as bounced!');
    }
    this.bounces.push({ campaignUid, subscriberUid: subscriber.uid, type });
    this.effects += 1;
    if (type === 'hard' && subscriber.status === 'confirmed') this.#addToBlacklist(subscriber);
    return json(201, {
      status: 'success',
      data: {
        record: {
          message: (form.message || 'BOUNCED BACK').slice(0, 250),
          processed: 'no',
          bounce_type: type,
          subscriber: { subscriber_uid: subscriber.uid, email: subscriber.email },
        },
      },
    });
  }
}

export type { FakeMailwizzList, FakeMailwizzOptions, FakeMailwizzSubscriber };
export {
  ENDPOINTS as MAILWIZZ_ENDPOINTS,
  FakeMailwizzServer,
  MUTATING_ENDPOINTS as MAILWIZZ_MUTATING_ENDPOINTS,
};
