/**
 * An accepted one-click POST → suppression state → the Action still owed (docs/unsubscribe.md,
 * "One-click"). The same exactly-once path as every unsubscribe: the store says new, pending or
 * already; only what is still pending becomes an action, so a repeated POST calls no provider again.
 * The ids of a MailWizz token are vouched for by our signature but not by the provider, so, as for
 * mailto, the suppression stays provisional until a provider confirms it (UNVERIFIED_TTL_MS).
 */
import { type Action, refSubject } from '../act/action.ts';
import type { PolicyConfig } from '../config-schema.ts';
import type { Router } from '../decide/routing.ts';
import type { SuppressionRequest, SuppressionStore } from '../ports.ts';
import { UNVERIFIED_TTL_MS } from './inbound-unsubscribe.ts';
import type { OneClickTarget } from './one-click-token.ts';

interface OneClickRecordSettings {
  router: Router;
  scope: PolicyConfig['unsubscribeScope'];
}

interface OneClickRecord {
  subject: string;
  state: 'new' | 'pending' | 'already';
  /** The action to run (or enqueue), or undefined when nothing is owed. */
  action: Action | undefined;
}

function requestOf(target: OneClickTarget, settings: OneClickRecordSettings, at: number): SuppressionRequest {
  const reason =
    target.type === 'ref'
      ? 'one-click unsubscribe: from its list'
      : 'one-click unsubscribe: the sealed address';
  const subject = target.type === 'ref' ? refSubject(target.ref) : target.address;
  return {
    subject,
    kind: 'unsubscribe',
    reason,
    // One key per subject: a repeat is the same record, never a second one.
    recordKey: `one-click:${subject}`,
    at,
    providers:
      target.type === 'ref'
        ? settings.router.forRef(target.ref, undefined)
        : settings.router.forAddress(undefined),
    ...(target.type === 'ref' ? { expiresAt: at + UNVERIFIED_TTL_MS } : {}),
  };
}

function actionOf(
  target: OneClickTarget,
  request: SuppressionRequest,
  pending: string[],
  scope: PolicyConfig['unsubscribeScope'],
): Action {
  const everywhere = target.type === 'ref' && scope === 'everywhere';
  return {
    v: 1,
    id: request.subject,
    subject: request.subject,
    target:
      target.type === 'ref' ? { type: 'ref', ref: target.ref } : { type: 'email', address: target.address },
    kind: 'unsubscribe',
    reason: request.reason,
    occurredAt: request.at,
    requestedAt: request.at,
    providers: pending,
    ...(everywhere ? { everywhere: true } : {}),
    ...(request.expiresAt === undefined ? {} : { unverifiedUntil: request.expiresAt }),
  };
}

/**
 * Records a batch of accepted POSTs in one write set (the server groups the requests of one tick,
 * so a burst costs one transaction, not one per request). One record per target, in order; a
 * subject twice in the batch gets one action.
 */
async function recordOneClicks(
  targets: readonly OneClickTarget[],
  settings: OneClickRecordSettings,
  store: SuppressionStore,
  at: number,
): Promise<OneClickRecord[]> {
  if (targets.length === 0) return [];
  const requests = targets.map((t) => requestOf(t, settings, at));
  const outcomes = await store.suppress(requests);
  const seen = new Set<string>();
  const records = requests.map((request, i): OneClickRecord => {
    const state = outcomes[i]?.state ?? 'already';
    const pending = outcomes[i]?.pendingProviders ?? [];
    if (pending.length === 0 || seen.has(request.subject))
      return { subject: request.subject, state, action: undefined };
    seen.add(request.subject);
    return {
      subject: request.subject,
      state,
      action: actionOf(targets[i]!, request, pending, settings.scope),
    };
  });
  // A repeat of a done unsubscribe writes nothing: the same link clicked forever keeps state flat.
  const audit = requests.flatMap((request, i) =>
    records[i]!.state === 'already'
      ? []
      : [
          {
            subject: request.subject,
            at,
            type: 'decision' as const,
            action: 'unsubscribe',
            reason: request.reason,
            recordKey: request.recordKey,
            expiresAt: request.expiresAt,
          },
        ],
  );
  if (audit.length > 0) await store.appendAudit(audit);
  return records;
}

export type { OneClickRecord, OneClickRecordSettings };
export { recordOneClicks };
