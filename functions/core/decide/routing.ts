/**
 * Which providers an event goes to: by `orig` (the envelope sender), matched against each
 * provider's `senders` exactly or with `*` globs, case-insensitively; provider ids (refs) only go
 * to providers of their type.
 */
import type { SubscriberRef } from '../mail-event.ts';

interface RoutableProvider {
  id: string;
  type: string;
  senders?: readonly string[] | undefined;
}

/**
 * A `*` glob as a matcher, case-insensitive. Not a RegExp: `^.*@.*\.example\..*$` backtracks
 * quadratically on a hostile `orig` (docs/security.md). The segments between stars are found left
 * to right with indexOf (the leftmost match of each leaves the most room for the next), so a match
 * costs one pass over the value per segment.
 */
function globMatcher(glob: string): (value: string) => boolean {
  const parts = glob.toLowerCase().split('*');
  const first = parts[0]!;
  const last = parts.at(-1)!;
  if (parts.length === 1) return (value) => value === first;
  const middle = parts.slice(1, -1);
  return (value) => {
    const end = value.length - last.length;
    if (end < first.length || !value.startsWith(first) || !value.endsWith(last)) return false;
    let at = first.length;
    for (const part of middle) {
      const found = value.indexOf(part, at);
      if (found < 0 || found + part.length > end) return false;
      at = found + part.length;
    }
    return true;
  };
}

interface Router {
  /** Provider ids for an address-based action. */
  forAddress(orig: string | undefined): string[];
  /** Provider ids for a list-scoped action by provider ids. */
  forRef(ref: SubscriberRef, orig: string | undefined): string[];
}

function createRouter(providers: readonly RoutableProvider[]): Router {
  const compiled = providers.map((p) => ({
    id: p.id,
    type: p.type,
    patterns: p.senders?.map(globMatcher),
  }));
  // An event without orig (plain CSV, mailto unsubscribe) goes to every provider: the PHP bouncehandler's
  // standalone mode unsubscribes everywhere.
  const matches = (patterns: Array<(value: string) => boolean> | undefined, orig: string | undefined) =>
    !patterns || orig === undefined || patterns.some((match) => match(orig.toLowerCase()));
  return {
    forAddress: (orig) => compiled.filter((p) => matches(p.patterns, orig)).map((p) => p.id),
    forRef: (ref, orig) =>
      compiled.filter((p) => p.type === ref.providerType && matches(p.patterns, orig)).map((p) => p.id),
  };
}

export type { RoutableProvider, Router };
export { createRouter, globMatcher };
