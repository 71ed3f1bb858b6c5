/**
 * The Interspire XML writer/parser (functions/adapters/providers/interspire/interspire-xml.ts)
 * against fast-xml-parser (XMLBuilder / XMLParser), loaded from .scratch/bench-libs (see
 * bench/library-packages.ts). Prints, in one run:
 * - writing, exactness: tricky values are written into an IEM request by each writer and read
 *   back by PHP's SimpleXML (libxml2, a conforming parser, as on the PHP side of Interspire); a
 *   value is exact when PHP reads what was meant (XML 1.0 cannot carry some control characters:
 *   for those, U+FFFD is what is meant);
 * - reading, exactness: IEM-style responses (entities, character references, CDATA, indentation)
 *   and malformed or hostile ones (stray `&`, mismatched tags, a DTD with entities), read by each;
 * - speed of both (requests built and responses parsed per second) and the minified bundle size.
 *
 *   node --import tsx bench/interspire-xml.ts [--iterations 20000]
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import {
  buildIemRequest,
  childText,
  type IemRequest,
  parseIemResponse,
} from '#providers/interspire/interspire-xml.ts';
import { LIBS, libraryVersion, loadLibrary, minifiedKb } from './library-packages.ts';

interface Fxp {
  XMLBuilder: new (options: object) => { build(value: object): string };
  XMLParser: new (options: object) => { parse(text: string): Record<string, unknown> };
  XMLValidator: { validate(text: string): true | object };
}

/** Values a subscriber list, an email or a custom field can hold; `meant`: what IEM should read. */
const WRITE_CASES: Array<{ value: string; meant?: string }> = [
  { value: 'plain@example.com' },
  { value: 'a&b<c>d@example.com' },
  { value: `"double" and 'single' quotes` },
  { value: 'line one\r\nline two' },
  { value: 'carriage\rreturn' },
  { value: 'tab\there' },
  { value: 'ends with ]]> and &amp; literally' },
  { value: 'control \u0001 char', meant: 'control \uFFFD char' },
  { value: 'noncharacter \uFFFE', meant: 'noncharacter \uFFFD' },
  { value: 'émoji 😀 and ß' },
  { value: '  leading and trailing spaces  ' },
];

function request(value: string): IemRequest {
  return {
    username: 'admin',
    token: 'tok&en<>',
    requestType: 'subscribers',
    requestMethod: 'AddSubscriberToList',
    details: { emailaddress: value, mailinglist: '7' },
  };
}

function fxpRequest(fxp: Fxp, value: string): string {
  const builder = new fxp.XMLBuilder({ format: false, processEntities: true });
  const r = request(value);
  const body = builder.build({
    xmlrequest: {
      username: r.username,
      usertoken: r.token,
      requesttype: r.requestType,
      requestmethod: r.requestMethod,
      details: r.details,
    },
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n${body}\n`;
}

/** What PHP's SimpleXML reads as details/emailaddress in each document ('!' + error when refused). */
function phpReads(documents: string[]): string[] {
  const php = `
    $docs = json_decode(stream_get_contents(STDIN));
    libxml_use_internal_errors(true);
    $out = [];
    foreach ($docs as $d) {
      $x = simplexml_load_string($d);
      $out[] = $x === false ? '!' . trim(libxml_get_errors()[0]->message ?? 'error') : (string) $x->details->emailaddress;
      libxml_clear_errors();
    }
    echo json_encode($out, JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE);`;
  const run = spawnSync('php', ['-r', php], { input: JSON.stringify(documents), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`php failed (is php-cli installed?): ${run.stderr}`);
  return JSON.parse(run.stdout) as string[];
}

function writeExactness(fxp: Fxp): string[] {
  const own = phpReads(WRITE_CASES.map((c) => buildIemRequest(request(c.value))));
  const lib = phpReads(WRITE_CASES.map((c) => fxpRequest(fxp, c.value)));
  const lines: string[] = [];
  let ownExact = 0;
  let libExact = 0;
  for (const [i, c] of WRITE_CASES.entries()) {
    const meant = c.meant ?? c.value;
    ownExact += own[i] === meant ? 1 : 0;
    libExact += lib[i] === meant ? 1 : 0;
    if (own[i] !== meant || lib[i] !== meant)
      lines.push(
        `  ${JSON.stringify(c.value)}: own → ${JSON.stringify(own[i])}, fast-xml-parser → ${JSON.stringify(lib[i])}`,
      );
  }
  const n = WRITE_CASES.length;
  return [
    `writing (read back by PHP SimpleXML): own exact ${ownExact}/${n}, fast-xml-parser exact ${libExact}/${n}`,
    ...lines,
  ];
}

const RESPONSE = (data: string): string =>
  `<?xml version="1.0" encoding="UTF-8"?>\n<response>\n\t<status>SUCCESS</status>\n\t<data>${data}</data>\n</response>\n`;

/** IEM-style answers; `meant` is the data text, or undefined when the document must be refused. */
const READ_CASES: Array<{ name: string; text: string; meant: string | undefined }> = [
  { name: 'plain', text: RESPONSE('1234'), meant: '1234' },
  {
    name: 'named entities',
    text: RESPONSE('a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;'),
    meant: `a & b <c> "d" 'e'`,
  },
  { name: 'character references', text: RESPONSE('x&#13;&#10;y &#x1F600;'), meant: 'x\r\ny 😀' },
  { name: 'CDATA', text: RESPONSE('<![CDATA[<b>&amp;</b>]]>'), meant: '<b>&amp;</b>' },
  { name: 'comment inside', text: RESPONSE('ab<!-- note -->cd'), meant: 'abcd' },
  { name: 'stray &', text: RESPONSE('a & b'), meant: undefined },
  { name: 'mismatched tag', text: RESPONSE('<x>1</y>'), meant: undefined },
  { name: 'unclosed root', text: '<response><status>SUCCESS</status><data>1</data>', meant: undefined },
  {
    name: 'DTD with an entity',
    text: '<?xml version="1.0"?><!DOCTYPE response [<!ENTITY x "boom">]><response><status>SUCCESS</status><data>&x;</data></response>',
    meant: undefined,
  },
  { name: 'two roots', text: `${RESPONSE('1')}<response/>`, meant: undefined },
];

function ownRead(text: string): string | undefined {
  try {
    return parseIemResponse(text).data?.text;
  } catch {
    return undefined;
  }
}

/** fast-xml-parser set up to be as exact and strict as it allows: validated first, refs decoded. */
function fxpReader(fxp: Fxp): (text: string) => string | undefined {
  const parser = new fxp.XMLParser({
    processEntities: true,
    htmlEntities: true,
    trimValues: false,
    parseTagValue: false,
    ignoreAttributes: true,
    ignoreDeclaration: true,
  });
  return (text) => {
    if (fxp.XMLValidator.validate(text) !== true) return undefined;
    try {
      const doc = parser.parse(text) as { response?: { data?: unknown } };
      const data = doc.response?.data;
      return typeof data === 'string' ? data : data === undefined ? undefined : JSON.stringify(data);
    } catch {
      return undefined;
    }
  };
}

function readExactness(fxp: Fxp): string[] {
  const lib = fxpReader(fxp);
  let ownExact = 0;
  let libExact = 0;
  const lines: string[] = [];
  for (const c of READ_CASES) {
    const [o, l] = [ownRead(c.text), lib(c.text)];
    ownExact += o === c.meant ? 1 : 0;
    libExact += l === c.meant ? 1 : 0;
    const show = (v: string | undefined): string => (v === undefined ? 'refused' : JSON.stringify(v));
    if (o !== c.meant || l !== c.meant)
      lines.push(`  ${c.name}: meant ${show(c.meant)}; own → ${show(o)}, fast-xml-parser → ${show(l)}`);
  }
  const n = READ_CASES.length;
  return [`reading: own exact ${ownExact}/${n}, fast-xml-parser exact ${libExact}/${n}`, ...lines];
}

function opsPerSecond(iterations: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(1000, iterations); i++) fn(i); // warm up
  const started = performance.now();
  for (let i = 0; i < iterations; i++) fn(i);
  return iterations / ((performance.now() - started) / 1000);
}

/** A typical answer: a subscriber's lists, re-indented as IEM does. */
const TYPICAL_RESPONSE = RESPONSE(
  Array.from(
    { length: 20 },
    (_, i) => `\n\t\t<item>\n\t\t\t<listid>${i}</listid>\n\t\t\t<name>List &amp; ${i}</name>\n\t\t</item>`,
  ).join(''),
);

function speed(fxp: Fxp, iterations: number): string[] {
  const lib = fxpReader(fxp);
  const own = {
    build: opsPerSecond(iterations, (i) => buildIemRequest(request(`user${i}@example.com`))),
    parse: opsPerSecond(iterations, () => childText(parseIemResponse(TYPICAL_RESPONSE).data, 'item')),
  };
  const fx = {
    build: opsPerSecond(iterations, (i) => fxpRequest(fxp, `user${i}@example.com`)),
    parse: opsPerSecond(iterations, () => lib(TYPICAL_RESPONSE)),
  };
  const f = (n: number): string => Math.round(n).toLocaleString('en-US');
  return [
    `speed (${iterations} each): build own ${f(own.build)}/s, fast-xml-parser ${f(fx.build)}/s (×${(fx.build / own.build).toFixed(2)}); parse own ${f(own.parse)}/s, fast-xml-parser (validate + parse) ${f(fx.parse)}/s (×${(fx.parse / own.parse).toFixed(2)})`,
  ];
}

async function sizes(): Promise<string[]> {
  const own = await minifiedKb(
    "export { buildIemRequest, parseIemResponse } from './functions/adapters/providers/interspire/interspire-xml.ts';",
    process.cwd(),
  );
  const lib = await minifiedKb(
    "export { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';",
    LIBS,
  );
  return [`minified bundle: own ${own}, fast-xml-parser ${lib}`];
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { iterations: { type: 'string', default: '20000' } } });
  const fxp = await loadLibrary<Fxp>('fast-xml-parser');
  const lines = [
    `Interspire XML: own writer/parser vs fast-xml-parser ${libraryVersion('fast-xml-parser')}, node ${process.version}`,
    ...writeExactness(fxp),
    ...readExactness(fxp),
    ...speed(fxp, Number(values.iterations)),
    ...(await sizes()),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

await main();
