/**
 * The XML of Interspire's xml.php API (docs/provider-apis.md §2): building requests with every value
 * escaped (the PHP bouncehandler interpolated raw values), and a small strict parser for the responses.
 * Strict on purpose: a stray `&` or `<` is an error, never silently repaired.
 */

type XmlValue = string | number | boolean | readonly XmlValue[] | { readonly [name: string]: XmlValue };

interface XmlElement {
  name: string;
  children: XmlElement[];
  /** Concatenated character data directly inside this element (entities decoded, not trimmed). */
  text: string;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Character references survive XML's end-of-line normalisation; raw CR would become LF.
  '\r': '&#13;',
  '\n': '&#10;',
};

/** Escapes text for element content; characters XML 1.0 cannot carry become U+FFFD. */
function escapeXml(value: string): string {
  return value.replace(
    /[&<>"'\r\n]|[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g,
    (c) => ESCAPES[c] ?? '\uFFFD',
  );
}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** `{ a: 'x', b: ['1', '2'] }` → `<a>x</a><b>1</b><b>2</b>`; nested objects nest. */
function toXml(name: string, value: XmlValue): string {
  if (!NAME.test(name)) throw new Error(`invalid XML element name ${JSON.stringify(name)}`);
  if (Array.isArray(value)) return value.map((v) => toXml(name, v)).join('');
  if (value !== null && typeof value === 'object') {
    const inner = Object.entries(value as Record<string, XmlValue>)
      .map(([k, v]) => toXml(k, v))
      .join('');
    return `<${name}>${inner}</${name}>`;
  }
  const text = typeof value === 'boolean' ? (value ? '1' : '0') : String(value);
  return `<${name}>${escapeXml(text)}</${name}>`;
}

interface IemRequest {
  username: string;
  token: string;
  /** Lowercase: it names a PHP file on a case-sensitive filesystem. */
  requestType: string;
  requestMethod: string;
  details: { readonly [name: string]: XmlValue };
}

function buildIemRequest(request: IemRequest): string {
  // <details> must not be empty (IEM checks empty()): unknown tags are ignored, so add a filler.
  const details = Object.keys(request.details).length > 0 ? request.details : { none: '1' };
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<xmlrequest>' +
    toXml('username', request.username) +
    toXml('usertoken', request.token) +
    toXml('requesttype', request.requestType) +
    toXml('requestmethod', request.requestMethod) +
    toXml('details', details) +
    '</xmlrequest>\n'
  );
}

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(raw: string): string {
  let out = '';
  let i = 0;
  while (i < raw.length) {
    const amp = raw.indexOf('&', i);
    if (amp < 0) return out + raw.slice(i);
    out += raw.slice(i, amp);
    const semi = raw.indexOf(';', amp);
    const entity = semi < 0 ? '' : raw.slice(amp + 1, semi);
    let decoded: string | undefined = NAMED_ENTITIES[entity];
    if (decoded === undefined && /^#[0-9]{1,7}$/.test(entity))
      decoded = String.fromCodePoint(Number(entity.slice(1)));
    if (decoded === undefined && /^#x[0-9A-Fa-f]{1,6}$/.test(entity)) {
      decoded = String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    }
    if (decoded === undefined) throw new Error(`invalid XML entity at offset ${amp}`);
    out += decoded;
    i = semi + 1;
  }
  return out;
}

/** Finds the `>` closing a start tag, skipping quoted attribute values. */
function tagEnd(input: string, from: number): number {
  let quote = '';
  for (let i = from; i < input.length; i += 1) {
    const c = input[i]!;
    if (quote) {
      if (c === quote) quote = '';
      else if (c === '<') break;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return i;
    else if (c === '<') break;
  }
  throw new Error(`unterminated tag at offset ${from}`);
}

/** Parses one XML document into its root element. No DTDs; attributes are read and ignored. */
function parseXml(input: string): XmlElement {
  const root: XmlElement = { name: '#document', children: [], text: '' };
  const stack: XmlElement[] = [root];
  let i = 0;
  while (i < input.length) {
    const lt = input.indexOf('<', i);
    const end = lt < 0 ? input.length : lt;
    if (end > i) {
      const raw = input.slice(i, end);
      if (stack.length === 1) {
        if (raw.trim() !== '') throw new Error('text outside the root element');
      } else stack.at(-1)!.text += decodeEntities(raw);
    }
    if (lt < 0) break;
    if (input.startsWith('<?', lt)) {
      const close = input.indexOf('?>', lt);
      if (close < 0) throw new Error('unterminated processing instruction');
      i = close + 2;
    } else if (input.startsWith('<!--', lt)) {
      const close = input.indexOf('-->', lt);
      if (close < 0) throw new Error('unterminated comment');
      i = close + 3;
    } else if (input.startsWith('<![CDATA[', lt)) {
      const close = input.indexOf(']]>', lt);
      if (close < 0 || stack.length === 1) throw new Error('misplaced CDATA');
      stack.at(-1)!.text += input.slice(lt + 9, close);
      i = close + 3;
    } else if (input.startsWith('<!', lt)) {
      throw new Error('DTDs are not accepted');
    } else if (input.startsWith('</', lt)) {
      const close = input.indexOf('>', lt);
      const name = close < 0 ? '' : input.slice(lt + 2, close).trim();
      const open = stack.pop();
      if (!open || open === root || open.name !== name) throw new Error(`mismatched closing tag </${name}>`);
      i = close + 1;
    } else {
      const close = tagEnd(input, lt + 1);
      let body = input.slice(lt + 1, close);
      const selfClosing = body.endsWith('/');
      if (selfClosing) body = body.slice(0, -1);
      const name = /^[^\s/>]+/.exec(body)?.[0] ?? '';
      if (!NAME.test(name)) throw new Error(`invalid element name at offset ${lt}`);
      const parent = stack.at(-1)!;
      if (parent === root && root.children.length > 0) throw new Error('more than one root element');
      const element: XmlElement = { name, children: [], text: '' };
      parent.children.push(element);
      if (!selfClosing) stack.push(element);
      i = close + 1;
    }
  }
  if (stack.length !== 1) throw new Error(`unclosed element <${stack.at(-1)!.name}>`);
  const [document] = root.children;
  if (!document) throw new Error('no root element');
  return document;
}

function childElement(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

/** Trimmed text of a child element: IEM re-indents its output with tabs and newlines. */
function childText(element: XmlElement | undefined, name: string): string | undefined {
  const child = childElement(element, name);
  return child === undefined ? undefined : child.text.trim();
}

interface IemResponse {
  status: 'SUCCESS' | 'FAILED';
  data: XmlElement | undefined;
  errorMessage: string;
}

function parseIemResponse(text: string): IemResponse {
  const document = parseXml(text);
  if (document.name !== 'response') throw new Error('not an IEM response');
  const status = childText(document, 'status');
  if (status !== 'SUCCESS' && status !== 'FAILED') throw new Error('IEM response without a status');
  return {
    status,
    data: childElement(document, 'data'),
    errorMessage: childText(document, 'errormessage') ?? '',
  };
}

export type { IemRequest, IemResponse, XmlElement, XmlValue };
export { buildIemRequest, childElement, childText, escapeXml, parseIemResponse, parseXml, toXml };
