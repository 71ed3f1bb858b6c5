/**
 * What `pmta-bounce undo` does to one selected suppression: skip it (a subscriber's own request is
 * never reversed), or forget it and, when providers changed subscriptions, queue one undo action
 * (core/act/undo-action.ts) that puts exactly those back. Pure.
 */
import type { Action } from '../act/action.ts';
import type { RestoreRequest } from '../ports.ts';
import { type SuppressionRecord, UNDO_ACTION } from './suppression-ledger.ts';

type UndoStep =
  | { subject: string; skip: string }
  | { subject: string; record: SuppressionRecord; id: string; action: Action | undefined };

/** Suppressions a subscriber asked for (List-Unsubscribe, mailto, one-click): never undone. */
const OWN_REQUEST_KINDS = new Set(['unsubscribe']);

function planUndo(record: SuppressionRecord, reason: string, at: number): UndoStep {
  if (OWN_REQUEST_KINDS.has(record.kind))
    return { subject: record.subject, skip: "the subscriber's own unsubscribe request: never undone" };
  const lists: Record<string, RestoreRequest[]> = {};
  for (const c of record.changed) {
    const restore = { listId: c.listId, ...(c.previousStatus ? { previousStatus: c.previousStatus } : {}) };
    lists[c.provider] = [...(lists[c.provider] ?? []), restore];
  }
  const providers = Object.keys(lists).sort();
  const id = `${UNDO_ACTION}:${record.subject}:${at}`;
  const action: Action | undefined =
    providers.length === 0
      ? undefined
      : {
          v: 1,
          id,
          subject: record.subject,
          target: record.subject.startsWith('ref:')
            ? { type: 'ref', ref: refFromSubject(record.subject) }
            : { type: 'email', address: record.subject },
          kind: 'manual',
          reason,
          providers,
          undo: { lists },
        };
  return { subject: record.subject, record, id, action };
}

/** `ref:<type>:<list>:<subscriber>` back to its ids (core/act/action.ts refSubject). */
function refFromSubject(subject: string) {
  const [, providerType = '', listId = '', subscriberId = ''] = subject.split(':');
  return { providerType, listId, subscriberId };
}

/** One line per subscription to put back: `provider list (name) → status`. */
function plannedCalls(record: SuppressionRecord): string[] {
  return record.changed.map(
    (c) =>
      `${c.provider} ${c.listId}${c.listName ? ` (${c.listName})` : ''} -> ${c.previousStatus ?? 'subscribed again'}`,
  );
}

export type { UndoStep };
export { plannedCalls, planUndo };
