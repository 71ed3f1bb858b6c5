/**
 * The Interspire XML escaping, both ways, judged by PHP (Interspire runs on PHP; its XML parser is
 * libxml2, a conforming one): what we write, PHP's SimpleXML must read back as meant; what PHP's
 * DOM writes, our parser must read back exactly. Our own parser alone cannot judge the first way:
 * it does not apply XML's end-of-line normalisation, which is exactly where a raw CR gets lost.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { buildIemRequest, childText, parseIemResponse } from '#providers/interspire/interspire-xml.ts';

const php = spawnSync(
  'php',
  ['-r', 'echo extension_loaded("simplexml") && extension_loaded("dom") ? "ok" : "no";'],
  {
    encoding: 'utf8',
  },
);
const phpReady = php.status === 0 && php.stdout === 'ok';
if (!phpReady) console.warn('interspire-xml-php: skipped, php-cli with SimpleXML and DOM is not installed');

/** Runs `code` with `input` as JSON on stdin; its stdout is JSON. */
function runPhp<T>(code: string, input: unknown): T {
  const run = spawnSync('php', ['-r', code], { input: JSON.stringify(input), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`php failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

const VALUES: Array<{ value: string; meant?: string }> = [
  { value: 'plain@example.com' },
  { value: 'a&b<c>d@example.com' },
  { value: `"double" and 'single'` },
  { value: 'x</emailaddress><listid>1' },
  { value: 'line one\r\nline two' },
  { value: 'carriage\rreturn' },
  { value: 'tab\tand\nnewline' },
  { value: 'ends with ]]> and &amp; literally' },
  { value: 'émoji 😀 ß' },
  { value: '  spaces  ' },
  { value: 'control \u0001 char', meant: 'control \uFFFD char' },
  { value: 'noncharacter \uFFFF', meant: 'noncharacter \uFFFD' },
];

describe.skipIf(!phpReady)('Interspire XML escaping, judged by PHP', () => {
  it('writes every value so that PHP SimpleXML reads it as meant', () => {
    const documents = VALUES.map(({ value }) =>
      buildIemRequest({
        username: 'admin',
        token: 'tok&en',
        requestType: 'subscribers',
        requestMethod: 'AddSubscriberToList',
        details: { emailaddress: value, mailinglist: 7 },
      }),
    );
    const read = runPhp<string[]>(
      `libxml_use_internal_errors(true);
       $out = [];
       foreach (json_decode(stream_get_contents(STDIN)) as $d) {
         $x = simplexml_load_string($d);
         $out[] = $x === false ? '!refused' : (string) $x->details->emailaddress . '|' . (string) $x->details->mailinglist;
       }
       echo json_encode($out, JSON_UNESCAPED_UNICODE);`,
      documents,
    );
    expect(read).toEqual(VALUES.map(({ value, meant }) => `${meant ?? value}|7`));
  });

  it('reads exactly what PHP DOM writes', () => {
    const readable = VALUES.filter((v) => v.meant === undefined).map((v) => v.value);
    const documents = runPhp<string[]>(
      `$out = [];
       foreach (json_decode(stream_get_contents(STDIN)) as $v) {
         $doc = new DOMDocument('1.0', 'UTF-8');
         $response = $doc->appendChild($doc->createElement('response'));
         $response->appendChild($doc->createElement('status'))->appendChild($doc->createTextNode('SUCCESS'));
         $data = $response->appendChild($doc->createElement('data'));
         $data->appendChild($doc->createElement('email'))->appendChild($doc->createTextNode($v));
         $out[] = $doc->saveXML();
       }
       echo json_encode($out, JSON_UNESCAPED_UNICODE);`,
      readable,
    );
    const read = documents.map((d) => {
      const text = parseIemResponse(d).data?.children[0]?.text;
      return text;
    });
    expect(read).toEqual(readable);
    // childText trims (IEM indents its output): the exact text is the element's own.
    expect(childText(parseIemResponse(documents[0] as string).data, 'email')).toBe('plain@example.com');
  });
});
