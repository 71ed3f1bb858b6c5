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
import type { SuppressionRequest, SuppressionStore } from '../suppression-store.ts';
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

async function recordOneClick(
  target: OneClickTarget,
  settings: OneClickRecordSettings,
  store: SuppressionStore,
  at: number,
): Promise<OneClickRecord> {
  const request = requestOf(target, settings, at);
  const [outcome] = await store.suppress([request]);
  const state = outcome?.state ?? 'already';
  const pending = outcome?.pendingProviders ?? [];
  await store.appendAudit([
    {
      subject: request.subject,
      at,
      type: 'decision',
      action: state === 'already' ? 'already-suppressed' : 'unsubscribe',
      reason: request.reason,
      recordKey: request.recordKey,
      expiresAt: request.expiresAt,
    },
  ]);
  if (pending.length === 0) return { subject: request.subject, state, action: undefined };
  const everywhere = target.type === 'ref' && settings.scope === 'everywhere';
  const action: Action = {
    v: 1,
    id: request.subject,
    subject: request.subject,
    target:
      target.type === 'ref' ? { type: 'ref', ref: target.ref } : { type: 'email', address: target.address },
    kind: 'unsubscribe',
    reason: request.reason,
    occurredAt: at,
    requestedAt: at,
    providers: pending,
    ...(everywhere ? { everywhere: true } : {}),
    ...(request.expiresAt === undefined ? {} : { unverifiedUntil: request.expiresAt }),
  };
  return { subject: request.subject, state, action };
}

export type { OneClickRecord, OneClickRecordSettings };
export { recordOneClick };
