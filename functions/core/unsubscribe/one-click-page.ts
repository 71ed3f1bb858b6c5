/**
 * The pages of the one-click endpoint (docs/unsubscribe.md, "One-click"): small, accessible (lang,
 * one h1, a labelled button, readable contrast, usable at 200 % zoom), no JavaScript, no asset from
 * anywhere: the style is inline and the Content-Security-Policy allows nothing else. The form posts
 * the RFC 8058 field itself, so the button and a mail client's one-click POST take one path.
 */
import { escapeHtml } from '../escape-html.ts';

type OneClickPage = 'confirm' | 'done' | 'invalid' | 'bad-request' | 'forbidden' | 'busy';

const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const STYLE = `body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1a1a1a;background:#fff;line-height:1.5}
h1{font-size:1.5rem}button{font:inherit;font-size:1.125rem;padding:.6rem 1.4rem;border:2px solid #1a1a1a;border-radius:.3rem;background:#1a1a1a;color:#fff;cursor:pointer}
button:focus-visible{outline:3px solid #0a58ca;outline-offset:2px}`;

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>
`;
}

/** `list` names what the reader leaves: a configured list name, or a neutral phrase. */
function oneClickPage(page: OneClickPage, list: string): string {
  const name = escapeHtml(list);
  switch (page) {
    case 'confirm':
      return layout(
        'Unsubscribe',
        `<h1>Unsubscribe</h1><p>Stop receiving <strong>${name}</strong>?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
      );
    case 'done':
      return layout(
        'Unsubscribed',
        `<h1 role="status">You are unsubscribed</h1><p>You will not receive <strong>${name}</strong> any more.</p>`,
      );
    case 'invalid':
      return layout(
        'Link no longer valid',
        '<h1>This link is no longer valid</h1><p>Use the unsubscribe link of a more recent message.</p>',
      );
    case 'forbidden':
      return layout(
        'Link not valid',
        '<h1>This link is not valid</h1><p>Use the unsubscribe link exactly as it appears in the message.</p>',
      );
    case 'busy':
      return layout('Try again later', '<h1>Too many requests</h1><p>Please try again in a minute.</p>');
    default:
      return layout(
        'Bad request',
        '<h1>This request could not be understood</h1><p>Use the unsubscribe link or button in the message.</p>',
      );
  }
}

export type { OneClickPage };
export { CONTENT_SECURITY_POLICY, oneClickPage };
