import { describe, expect, it } from 'vitest';
import {
  buildIemRequest,
  childText,
  escapeXml,
  parseIemResponse,
  parseXml,
} from '#providers/interspire/interspire-xml.ts';

describe('Interspire XML escaping', () => {
  it.each([
    { case: 'less-than', value: 'a<b@example.com', escaped: 'a&lt;b@example.com' },
    { case: 'ampersand', value: 'tom&jerry@example.com', escaped: 'tom&amp;jerry@example.com' },
    { case: 'double quote', value: '"quoted"@example.com', escaped: '&quot;quoted&quot;@example.com' },
    { case: 'CRLF', value: 'a@example.com\r\n<x>', escaped: 'a@example.com&#13;&#10;&lt;x&gt;' },
    {
      case: 'an injected closing tag',
      value: 'x</emailaddress><listid>1',
      escaped: 'x&lt;/emailaddress&gt;&lt;listid&gt;1',
    },
  ])('escapes $case and round-trips exactly', ({ value, escaped }) => {
    expect(escapeXml(value)).toBe(escaped);
    const xml = buildIemRequest({
      username: 'u&<',
      token: 't"',
      requestType: 'subscribers',
      requestMethod: 'UnsubscribeSubscriber',
      details: { emailaddress: value, listid: 3 },
    });
    const document = parseXml(xml);
    const details = document.children.find((c) => c.name === 'details');
    // The value cannot open or close elements: details still has exactly the two children sent.
    expect(details?.children.map((c) => c.name)).toEqual(['emailaddress', 'listid']);
    expect(details?.children[0]?.text).toBe(value);
    expect(childText(document, 'username')).toBe('u&<');
  });

  it('replaces characters XML 1.0 cannot carry', () => {
    expect(escapeXml('a\u0000b\u0007c\tline')).toBe('a\uFFFDb\uFFFDc\tline');
  });

  it('repeats arrays and nests objects', () => {
    const xml = buildIemRequest({
      username: 'u',
      token: 't',
      requestType: 'subscribers',
      requestMethod: 'GetSubscribers',
      details: { searchinfo: { List: ['3', '4'], Email: 'a@b.c' } },
    });
    expect(xml).toContain(
      '<details><searchinfo><List>3</List><List>4</List><Email>a@b.c</Email></searchinfo></details>',
    );
  });

  it('never sends an empty <details>', () => {
    const xml = buildIemRequest({
      username: 'u',
      token: 't',
      requestType: 'authentication',
      requestMethod: 'xmlapitest',
      details: {},
    });
    expect(xml).toMatch(/<details><none>1<\/none><\/details>/);
  });
});

describe('Interspire XML parsing', () => {
  it('reads an IEM response with tab-indented data', () => {
    const response = parseIemResponse(
      '<?xml version="1.0" encoding="UTF-8" ?>\n<response>\n<status>SUCCESS</status>\n<data>\n\t<count>1</count>\n\t<subscriberlist>\n\t\t<item>\n\t\t\t<emailaddress>a&amp;b@example.com</emailaddress>\n\t\t</item>\n\t</subscriberlist>\n</data></response>\n',
    );
    expect(response.status).toBe('SUCCESS');
    expect(childText(response.data, 'count')).toBe('1');
    const item = response.data?.children[1]?.children[0];
    expect(childText(item, 'emailaddress')).toBe('a&b@example.com');
  });

  it('reads FAILED with an empty error message', () => {
    expect(
      parseIemResponse('<response><status>FAILED</status><errormessage></errormessage></response>'),
    ).toEqual({
      status: 'FAILED',
      data: undefined,
      errorMessage: '',
    });
  });

  it.each([
    { case: 'a raw ampersand', xml: '<a>x & y</a>' },
    { case: 'a raw less-than in text', xml: '<a>x < y</a>' },
    { case: 'mismatched tags', xml: '<a><b></a></b>' },
    { case: 'an unclosed element', xml: '<a><b></b>' },
    { case: 'a DTD', xml: '<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>' },
    { case: 'an unknown entity', xml: '<a>&nbsp;</a>' },
    { case: 'two roots', xml: '<a></a><b></b>' },
  ])('rejects $case', ({ xml }) => {
    expect(() => parseXml(xml)).toThrow();
  });
});
