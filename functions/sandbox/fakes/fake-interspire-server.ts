/**
 * An Interspire Email Marketer xml.php fake (docs/provider-apis.md §2): always HTTP 200 text/xml, the five
 * required request elements, lowercase requesttype, case-insensitive method, parameters bound by
 * exact name, FAILED with an empty message for falsy returns, `<item>` for list entries, and the
 * non-idempotent UnsubscribeSubscriber (every call counts, per subscription).
 */
import { parseXml, type XmlElement } from '#providers/interspire/interspire-xml.ts';
import { FakeApiServer } from './fake-api-server.ts';
import type { FakeReply, FakeRequest } from './fake-http-server.ts';

interface FakeInterspireOptions {
  username: string;
  token: string;
  /**
   * `no-unsubscribed`: subscriber rows (GetSubscribers items, LoadSubscriberList) come without the
   * `unsubscribed` column, as from IEM builds whose select leaves it out. Default `full`.
   */
  subscriberColumns?: 'full' | 'no-unsubscribed';
}

interface FakeIemSubscriber {
  subscriberid: string;
  listid: string;
  emailaddress: string;
  /** 0 while subscribed, else unix seconds. */
  unsubscribed: number;
  /** Every UnsubscribeSubscriber that hit this subscription (exactly-once assertions). */
  unsubscribeCalls: number;
}

interface FakeIemList {
  listid: string;
  name: string;
  subscribecount: number;
  unsubscribecount: number;
}

/** PHP-ish values bound from <details>: text, repeated tags as arrays, nested tags as objects. */
type Bound = string | Bound[] | { [name: string]: Bound };

const MUTATING = ['subscribers/unsubscribesubscriber', 'subscribers/addbannedsubscriber'];
const REQUEST_TYPES = new Set(['authentication', 'lists', 'subscribers', 'user']);

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** IEM's CreateOutput: arrays become <item> elements; output is re-indented with tabs. */
function output(value: unknown, depth = 1): string {
  const pad = `\n${'\t'.repeat(depth)}`;
  if (Array.isArray(value))
    return value.map((v) => `${pad}<item>${output(v, depth + 1)}${pad}</item>`).join('');
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .map(([k, v]) => `${pad}<${k}>${output(v, depth + 1)}${typeof v === 'object' ? pad : ''}</${k}>`)
      .join('');
  }
  return esc(String(value));
}

function success(data: unknown = ''): FakeReply {
  const body = `<?xml version="1.0" encoding="UTF-8" ?>\n<response>\n<status>SUCCESS</status>\n<data>${output(data)}</data></response>\n`;
  return { status: 200, headers: { 'content-type': 'text/xml' }, body };
}

function failed(message = ''): FakeReply {
  const body = `<?xml version="1.0" encoding="UTF-8" ?>\n<response>\n<status>FAILED</status>\n<errormessage>${esc(message)}</errormessage>\n</response>\n`;
  return { status: 200, headers: { 'content-type': 'text/xml' }, body };
}

function bind(element: XmlElement): Bound {
  if (element.children.length === 0) return element.text;
  const out: { [name: string]: Bound } = {};
  for (const child of element.children) {
    const value = bind(child);
    const existing = out[child.name];
    if (existing === undefined) out[child.name] = value;
    else out[child.name] = Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}

/** PHP truthiness of a bound string: '' and '0' are false. */
function truthy(value: Bound | undefined): boolean {
  return value !== undefined && value !== '' && value !== '0';
}

function text(value: Bound | undefined): string {
  return typeof value === 'string' ? value.trim() : '';
}

class FakeInterspireServer extends FakeApiServer<FakeInterspireOptions> {
  readonly lists = new Map<string, FakeIemList>();
  readonly subscribers: FakeIemSubscriber[] = [];
  readonly banned = new Map<string, Set<string>>();
  effects = 0;
  #nextList = 0;
  #nextSubscriber = 100;

  static async start(options: FakeInterspireOptions): Promise<FakeInterspireServer> {
    return new FakeInterspireServer(options).listen();
  }

  override get url(): string {
    return `${this.server.url}/iem/xml.php`;
  }

  addList(name = `List ${this.#nextList + 1}`): string {
    this.#nextList += 1;
    const listid = String(this.#nextList);
    this.lists.set(listid, { listid, name, subscribecount: 0, unsubscribecount: 0 });
    return listid;
  }

  addSubscriber(listid: string, emailaddress: string): string {
    this.#nextSubscriber += 1;
    const subscriberid = String(this.#nextSubscriber);
    this.subscribers.push({ subscriberid, listid, emailaddress, unsubscribed: 0, unsubscribeCalls: 0 });
    this.lists.get(listid)!.subscribecount += 1;
    return subscriberid;
  }

  /** An unsubscribe made in IEM itself (its own form or UI), before any call of ours. */
  markUnsubscribed(subscriberid: string, at = 1_700_000_000): void {
    const row = this.subscriber(subscriberid);
    if (!row || row.unsubscribed > 0) return;
    row.unsubscribed = at;
    const list = this.lists.get(row.listid);
    if (list) {
      list.unsubscribecount += 1;
      list.subscribecount -= 1;
    }
  }

  subscriber(subscriberid: string): FakeIemSubscriber | undefined {
    return this.subscribers.find((s) => s.subscriberid === subscriberid);
  }

  mutatingRequests(): number {
    return MUTATING.reduce((n, e) => n + this.server.count(e), 0);
  }

  protected route(request: FakeRequest) {
    let document: XmlElement | undefined;
    try {
      // xml.php reads the form field `xml`, else the raw body.
      const type = String(request.headers['content-type'] ?? '');
      const raw = type.startsWith('application/x-www-form-urlencoded')
        ? (new URLSearchParams(request.body).get('xml') ?? '')
        : request.body;
      document = request.method === 'POST' ? parseXml(raw) : undefined;
    } catch {
      document = undefined;
    }
    const field = (name: string) => document?.children.find((c) => c.name === name);
    const requestType = (field('requesttype')?.text.trim() ?? '').replace(/\W/g, '_');
    const requestMethod = (field('requestmethod')?.text.trim() ?? '').replace(/\W/g, '_');
    const endpoint = document ? `${requestType}/${requestMethod.toLowerCase()}` : 'invalid';
    return { endpoint, run: () => this.#handle(document, requestType, requestMethod) };
  }

  #handle(document: XmlElement | undefined, requestType: string, requestMethod: string): FakeReply {
    if (document?.name !== 'xmlrequest') return failed('The XML you have sent is invalid.');
    for (const name of ['username', 'usertoken', 'requesttype', 'requestmethod', 'details']) {
      const el = document.children.find((c) => c.name === name);
      if (!el || (el.text.trim() === '' && el.children.length === 0)) {
        return failed(`The XML format you have sent is invalid. The following field is required: ${name}`);
      }
    }
    const username = document.children.find((c) => c.name === 'username')!.text.trim();
    const token = document.children.find((c) => c.name === 'usertoken')!.text.trim();
    if (username !== this.options.username || token !== this.options.token) {
      return failed('Unable to check user details.');
    }
    const details = bind(document.children.find((c) => c.name === 'details')!);
    const params = typeof details === 'object' && !Array.isArray(details) ? details : {};
    if (requestType === 'authentication' && requestMethod === 'xmlapitest') {
      return success({ user: { userid: '1', username } });
    }
    // requesttype names a PHP file on a case-sensitive filesystem.
    if (!REQUEST_TYPES.has(requestType) || requestType === 'authentication')
      return failed('Invalid request type');
    const handler = this.#methods()[`${requestType}/${requestMethod.toLowerCase()}`];
    if (!handler) return failed('Invalid request method');
    return handler(params);
  }

  #methods(): Record<string, (p: { [name: string]: Bound }) => FakeReply> {
    return {
      'lists/getlists': (p) => this.#getLists(p),
      'subscribers/getsubscribers': (p) => this.#getSubscribers(p),
      'subscribers/unsubscribesubscriber': (p) => this.#unsubscribe(p),
      'subscribers/isunsubscriber': (p) => this.#isUnsubscriber(p),
      'subscribers/loadsubscriberlist': (p) => this.#loadSubscriberList(p),
      'subscribers/addbannedsubscriber': (p) => this.#addBanned(p),
    };
  }

  #getLists(p: { [name: string]: Bound }): FakeReply {
    const start = Number(text(p.start) || 0);
    const perPageText = text(p.perpage) || '10';
    const all = [...this.lists.values()];
    const page = perPageText === 'all' ? all.slice(start) : all.slice(start, start + Number(perPageText));
    // An empty array is falsy in PHP: FAILED with an empty message.
    if (page.length === 0) return failed('');
    return success(
      page.map((l) => ({
        listid: l.listid,
        name: l.name,
        createdate: '1700000000',
        subscribecount: l.subscribecount,
        unsubscribecount: l.unsubscribecount,
        ownerid: '1',
        username: this.options.username,
        fullname: 'Fake Admin',
      })),
    );
  }

  #getSubscribers(p: { [name: string]: Bound }): FakeReply {
    const info = p.searchinfo;
    if (!info || typeof info !== 'object' || Array.isArray(info))
      return success({ count: 0, subscriberlist: '' });
    const listParam = info.List;
    const listIds = (Array.isArray(listParam) ? listParam : [listParam]).map(text).filter(Boolean);
    const anyList = listIds.includes('any');
    // Email is a substring LIKE, case-insensitive, as in IEM.
    const needle = text(info.Email).toLowerCase();
    const rows = this.subscribers.filter(
      (s) =>
        (anyList || listIds.includes(s.listid)) &&
        (needle === '' || s.emailaddress.toLowerCase().includes(needle)),
    );
    return success({
      count: rows.length,
      subscriberlist: rows.map((s) => ({
        subscriberid: s.subscriberid,
        emailaddress: s.emailaddress,
        format: 'h',
        subscribedate: '1700000000',
        confirmed: '1',
        ...this.#unsubscribedColumn(s),
        bounced: '0',
        listid: s.listid,
        listname: this.lists.get(s.listid)?.name ?? '',
      })),
    });
  }

  #unsubscribedColumn(row: FakeIemSubscriber): { unsubscribed?: string } {
    return this.options.subscriberColumns === 'no-unsubscribed'
      ? {}
      : { unsubscribed: String(row.unsubscribed) };
  }

  #find(p: { [name: string]: Bound }): FakeIemSubscriber | undefined {
    const listid = text(p.listid);
    const subscriberid = text(p.subscriberid);
    const email = text(p.emailaddress).toLowerCase();
    return this.subscribers.find(
      (s) =>
        s.listid === listid &&
        (subscriberid && subscriberid !== '0'
          ? s.subscriberid === subscriberid
          : s.emailaddress.toLowerCase() === email),
    );
  }

  #unsubscribe(p: { [name: string]: Bound }): FakeReply {
    const email = text(p.emailaddress);
    const listid = text(p.listid);
    const skipcheck = truthy(p.skipcheck) && truthy(p.subscriberid);
    if (!truthy(listid) || (!email && !skipcheck)) return failed('No List or email address');
    const row = skipcheck
      ? this.subscribers.find((s) => s.subscriberid === text(p.subscriberid) && s.listid === listid)
      : this.subscribers.find(
          (s) => s.listid === listid && s.emailaddress.toLowerCase() === email.toLowerCase(),
        );
    if (!row) return failed(`The email address '${email}' is not subscribed to this list`);
    // Not idempotent, like IEM: every call counts and moves the list counters.
    row.unsubscribeCalls += 1;
    if (row.unsubscribed === 0) row.unsubscribed = Math.floor(Date.now() / 1000);
    const list = this.lists.get(listid);
    if (list) {
      list.unsubscribecount += 1;
      list.subscribecount -= 1;
    }
    this.effects += 1;
    return success();
  }

  #isUnsubscriber(p: { [name: string]: Bound }): FakeReply {
    const row = this.#find(p);
    return row && row.unsubscribed > 0 ? success(row.subscriberid) : failed('');
  }

  #loadSubscriberList(p: { [name: string]: Bound }): FakeReply {
    const row = this.#find({ listid: p.listid ?? '', subscriberid: p.subscriberid ?? '' });
    if (!row) return failed('');
    return success({
      subscriberid: row.subscriberid,
      listid: row.listid,
      emailaddress: row.emailaddress,
      format: 'h',
      confirmed: '1',
      bounced: '0',
      ...this.#unsubscribedColumn(row),
      unsubscribeconfirmed: row.unsubscribed > 0 ? '1' : '0',
    });
  }

  #addBanned(p: { [name: string]: Bound }): FakeReply {
    const email = text(p.emailaddress).toLowerCase();
    if (!email) return failed('No email address supplied');
    const raw = text(p.listid);
    const listid = /^\d+$/.test(raw) ? raw : 'g';
    const set = this.banned.get(listid) ?? new Set<string>();
    this.banned.set(listid, set);
    if (set.has(email)) return failed('Already in the suppression list');
    set.add(email);
    this.effects += 1;
    return success();
  }
}

export type { FakeIemList, FakeIemSubscriber, FakeInterspireOptions };
export { FakeInterspireServer };
