/**
 * Text as HTML: the five characters that can end an element or an attribute value become entities.
 * Shared by the postmaster digest, the one-click page and the report page.
 */
function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

export { escapeHtml };
