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

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .toLowerCase()
    .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
    .replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`);
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
    patterns: p.senders?.map(globToRegExp),
  }));
  // An event without orig (plain CSV, mailto unsubscribe) goes to every provider: the PHP bouncehandler's
  // standalone mode unsubscribes everywhere.
  const matches = (patterns: RegExp[] | undefined, orig: string | undefined): boolean =>
    !patterns || orig === undefined || patterns.some((re) => re.test(orig.toLowerCase()));
  return {
    forAddress: (orig) => compiled.filter((p) => matches(p.patterns, orig)).map((p) => p.id),
    forRef: (ref, orig) =>
      compiled.filter((p) => p.type === ref.providerType && matches(p.patterns, orig)).map((p) => p.id),
  };
}

export type { RoutableProvider, Router };
export { createRouter, globToRegExp };
