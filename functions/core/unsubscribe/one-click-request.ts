/**
 * One HTTP request to the one-click endpoint, decided (docs/interfaces.md, "One-click endpoint"):
 * GET and HEAD only ever show a page (a link scanner that follows every URL changes nothing); a
 * POST unsubscribes only with the RFC 8058 field `List-Unsubscribe=One-Click`, as a mail client sends
 * it (urlencoded or multipart) and as the page's button posts it. Everything else answers 400, a bad
 * signature 403, a rotated-out key 404. Pure: the shell brings the body (bounded to MAX_BODY).
 */
import { type OneClickPage, oneClickPage } from './one-click-page.ts';
import { checkOneClickToken, type OneClickKeys, type OneClickTarget } from './one-click-token.ts';

interface OneClickRequest {
  method: string;
  /** The URL path, without the query. */
  path: string;
  contentType?: string | undefined;
  /** The body as text (latin1 or UTF-8: only ASCII is looked at). */
  body: string;
}

interface OneClickSettings extends OneClickKeys {
  /** Display names of lists by list id (unsubscribe.oneClick.listNames). */
  listNames: Readonly<Record<string, string>>;
}

type OneClickDecision =
  | { kind: 'page'; status: 200 | 400 | 403 | 404 | 405; page: OneClickPage; list: string; reason: string }
  | { kind: 'unsubscribe'; target: OneClickTarget; list: string };

/** A mail client's body is 26 bytes; the page's form about the same; multipart a few hundred. */
const MAX_BODY = 8192;
const PREFIX = '/u/';
const FIELD = 'List-Unsubscribe';
const VALUE = 'One-Click';

function decodeFormPart(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

function urlencodedHasOneClick(body: string): boolean {
  for (const pair of body.split('&', 64)) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (decodeFormPart(pair.slice(0, eq)) === FIELD && decodeFormPart(pair.slice(eq + 1)) === VALUE)
      return true;
  }
  return false;
}

/** The boundary parameter of a multipart content type (quoted or not), or undefined. */
function boundaryOf(contentType: string): string | undefined {
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/s, '$1');
    return value.length > 0 && value.length <= 70 ? value : undefined;
  }
  return undefined;
}

function multipartHasOneClick(body: string, boundary: string): boolean {
  for (const part of body.split(`--${boundary}`, 32)) {
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const headers = part.slice(0, split).toLowerCase();
    const value = part.slice(split + 4).replace(/\r\n$/, '');
    if (headers.includes('content-disposition: form-data') && headers.includes('name="list-unsubscribe"'))
      if (value === VALUE) return true;
  }
  return false;
}

/** True when the body carries `List-Unsubscribe=One-Click` in a form encoding RFC 8058 allows. */
function isOneClickBody(contentType: string | undefined, body: string): boolean {
  if (body.length > MAX_BODY) return false;
  const type = (contentType ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') return urlencodedHasOneClick(body);
  if (type === 'multipart/form-data') {
    const boundary = boundaryOf(contentType ?? '');
    return boundary !== undefined && multipartHasOneClick(body, boundary);
  }
  return false;
}

function listLabel(target: OneClickTarget, names: Readonly<Record<string, string>>): string {
  if (target.type === 'email') return names['*'] ?? 'these mailings';
  return names[target.ref.listId] ?? names['*'] ?? 'this mailing list';
}

function decideOneClick(request: OneClickRequest, settings: OneClickSettings): OneClickDecision {
  const fallback = settings.listNames['*'] ?? 'this mailing list';
  const page = (status: 400 | 403 | 404 | 405, p: OneClickPage, reason: string): OneClickDecision => ({
    kind: 'page',
    status,
    page: p,
    list: fallback,
    reason,
  });
  if (!request.path.startsWith(PREFIX)) return page(404, 'invalid', 'not an unsubscribe path');
  const method = request.method.toUpperCase();
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST')
    return page(405, 'bad-request', 'method not allowed');
  const token = checkOneClickToken(request.path.slice(PREFIX.length), settings);
  if (!token.ok) {
    const shown = token.status === 400 ? 'bad-request' : token.status === 403 ? 'forbidden' : 'invalid';
    return page(token.status, shown, token.reason);
  }
  const { ok: _ok, ...target } = token;
  const list = listLabel(target, settings.listNames);
  if (method !== 'POST')
    return { kind: 'page', status: 200, page: 'confirm', list, reason: 'confirmation page' };
  if (!isOneClickBody(request.contentType, request.body))
    return page(400, 'bad-request', 'POST without List-Unsubscribe=One-Click');
  return { kind: 'unsubscribe', target, list };
}

/** The HTML of a decision's page (the done page for an unsubscribe). */
function oneClickHtml(decision: OneClickDecision): string {
  return oneClickPage(decision.kind === 'page' ? decision.page : 'done', decision.list);
}

export type { OneClickDecision, OneClickRequest, OneClickSettings };
export { decideOneClick, isOneClickBody, MAX_BODY, oneClickHtml };
