/**
 * The orchestrator shared by local mode and the ingest function: a batch of parsed records →
 * decisions → suppression state → one Action per subject that still needs provider calls, plus
 * one report row per record (docs/interfaces.md §4) and the decision audit. Each row and
 * audit entry of a bounce names the classification rule that decided it.
 * It sees only ports; adapters are passed in. Steps, in order: decide each record, count soft
 * bounces, store the deliveries that reset soft counts, suppress, write the audit.
 */
import { type Action, refSubject } from '../act/action.ts';
import type { Classifier } from '../classify/classify.ts';
import type { PolicyConfig } from '../config-schema.ts';
import type { MailEvent, ParseOutcome } from '../mail-event.ts';
import type {
  AuditEntry,
  DeliveryRequest,
  SoftBounceRequest,
  SuppressionRequest,
  SuppressionStore,
} from '../ports.ts';
import { type Decision, decide, Intent, softLimitReached } from './policy.ts';
import type { Router } from './routing.ts';

const RowAction = {
  unsubscribe: 'unsubscribe',
  alreadySuppressed: 'already-suppressed',
  softBounce: 'soft-bounce',
  ignore: 'ignore',
  reject: 'reject',
} as const;
type RowAction = (typeof RowAction)[keyof typeof RowAction];

interface ReportRow {
  line: number;
  type: string;
  recipient: string | undefined;
  category: string | undefined;
  action: RowAction;
  reason: string;
  /** The classification rule behind a bounce decision (a rule id, `pmta` or `default`). */
  rule?: string | undefined;
}

interface DecideDeps {
  classifier: Classifier;
  policy: PolicyConfig;
  router: Router;
  store: SuppressionStore;
  /** Time for records without a timestamp (ms). */
  now: () => number;
}

interface DecideResult {
  rows: ReportRow[];
  actions: Action[];
  rejects: Array<{ line: number; raw: string; reason: string }>;
}

const DAY_MS = 86_400_000;

/** What a provider may want to know about a bounce (listmonk's bounce type, the rule in its meta). */
type BounceDetail = Pick<Decision, 'rule' | 'bounceType'>;

interface Pending {
  row: number;
  event: MailEvent;
  request: SuppressionRequest;
  target: Action['target'];
  everywhere?: boolean;
  bounce: BounceDetail;
}

interface SoftPending {
  row: number;
  event: MailEvent;
  request: SoftBounceRequest;
  decision: Decision;
}

/** What one batch collects before the store is asked anything. */
interface Batch {
  rows: ReportRow[];
  rejects: DecideResult['rejects'];
  audit: AuditEntry[];
  pending: Pending[];
  soft: SoftPending[];
  deliveries: DeliveryRequest[];
}

function recipientLabel(event: MailEvent): string | undefined {
  return event.recipient ?? (event.refs[0] ? refSubject(event.refs[0]) : undefined);
}

function decisionAudit(subject: string, at: number, event: MailEvent, row: ReportRow): AuditEntry {
  return {
    subject,
    at,
    type: 'decision',
    action: row.action,
    reason: row.reason,
    line: event.line,
    recordKey: event.key,
    rule: row.rule,
  };
}

function suppressionRequest(
  event: MailEvent,
  decision: Decision,
  at: number,
  subject: string,
  providers: readonly string[],
): SuppressionRequest {
  const request: SuppressionRequest = {
    subject,
    kind: event.kind,
    category: decision.category,
    reason: decision.reason,
    recordKey: event.key,
    at,
    providers,
    // Provenance, kept with the suppression for `suppressions export` and `undo` selections.
    recordType: event.recordType,
  };
  // Set only when present (no `{...(x ? {x} : {})}`: this runs once per unsubscribing record).
  if (decision.rule) request.rule = decision.rule;
  if (event.jobId) request.jobId = event.jobId;
  return request;
}

/** Suppression requests of one decision: by address everywhere, else one per provider ref. */
function queueUnsubscribe(
  batch: Batch,
  row: number,
  event: MailEvent,
  decision: Decision,
  deps: DecideDeps,
): void {
  const at = event.occurredAt ?? deps.now();
  const bounce: BounceDetail = decision;
  if (decision.scope === 'everywhere' && event.recipient) {
    const providers = deps.router.forAddress(event.orig);
    const target = { type: 'email', address: event.recipient } as const;
    const request = suppressionRequest(event, decision, at, event.recipient, providers);
    batch.pending.push({ row, event, target, request, bounce });
    return;
  }
  // Everywhere, but only the ids are known (a feedback report that hid the recipient): by ids,
  // flagged so the act side resolves them to the address and widens (core/act/widen-action.ts),
  // routed to every provider of the sender.
  const everywhere = decision.scope === 'everywhere';
  for (const ref of event.refs) {
    const providers = everywhere ? deps.router.forAddress(event.orig) : deps.router.forRef(ref, event.orig);
    const request = suppressionRequest(event, decision, at, refSubject(ref), providers);
    batch.pending.push({
      row,
      event,
      target: { type: 'ref', ref },
      request,
      bounce,
      ...(everywhere ? { everywhere } : {}),
    });
  }
}

/** A record that is not an event: a reject (kept with its text) or an ignored line. */
function recordNonEvent(batch: Batch, outcome: Exclude<ParseOutcome, { ok: true }>, deps: DecideDeps): void {
  if (outcome.kind === 'rejected') {
    batch.rows.push({
      line: outcome.line,
      type: outcome.raw.split(',', 1)[0]!.slice(0, 8),
      recipient: undefined,
      category: undefined,
      action: RowAction.reject,
      reason: outcome.reason,
    });
    batch.rejects.push({ line: outcome.line, raw: outcome.raw, reason: outcome.reason });
    return;
  }
  batch.rows.push({
    line: outcome.line,
    type: outcome.recordType,
    recipient: outcome.recipient,
    category: undefined,
    action: RowAction.ignore,
    reason: outcome.reason,
  });
  if (outcome.recordType === 'd' && outcome.recipient && deps.policy.soft.resetOnDelivery) {
    batch.deliveries.push({ address: outcome.recipient, at: outcome.traffic?.at ?? deps.now() });
  }
}

/** Step 1: one decision and one report row per record. */
function decideOne(batch: Batch, outcome: ParseOutcome, deps: DecideDeps): void {
  if (!outcome.ok) {
    recordNonEvent(batch, outcome, deps);
    return;
  }
  const event = outcome.event;
  const row = batch.rows.length;
  const classification = event.kind === 'bounce' ? deps.classifier(event) : undefined;
  const decision = decide(event, classification, deps.policy);
  const report: ReportRow = {
    line: event.line,
    type: event.recordType,
    recipient: recipientLabel(event),
    category: decision.category,
    action: RowAction.ignore,
    reason: decision.reason,
    rule: decision.rule,
  };
  batch.rows.push(report);
  const at = event.occurredAt ?? deps.now();
  if (decision.intent === Intent.ignore) {
    batch.audit.push(decisionAudit(recipientLabel(event) ?? '', at, event, report));
  } else if (decision.intent === Intent.softBounce && event.recipient) {
    batch.soft.push({
      row,
      event,
      decision,
      request: { address: event.recipient, recordKey: event.key, at },
    });
  } else {
    queueUnsubscribe(batch, row, event, decision, deps);
  }
}

/**
 * Step 2: soft bounces are counted (this batch's deliveries already reset them); those at the
 * threshold become unsubscribes.
 */
async function countSoftBounces(batch: Batch, deps: DecideDeps): Promise<void> {
  if (batch.soft.length === 0) return;
  const { soft } = deps.policy;
  const delivered = new Map<string, number>();
  for (const d of batch.deliveries)
    delivered.set(d.address, Math.max(d.at, delivered.get(d.address) ?? d.at));
  const counts = await deps.store.recordSoftBounces(
    batch.soft.map((s) =>
      delivered.has(s.request.address)
        ? { ...s.request, resetAt: delivered.get(s.request.address) }
        : s.request,
    ),
    { windowMs: soft.windowDays * DAY_MS, onePerUtcDay: soft.onePerUtcDay },
  );
  batch.soft.forEach((s, i) => {
    const count = counts[i] ?? 1;
    const days = soft.onePerUtcDay ? ' (one per UTC day)' : '';
    const tally = `${count} within ${soft.windowDays}d${days}, threshold ${soft.threshold}`;
    if (softLimitReached(count, deps.policy)) {
      const reason = `${s.decision.reason} (${tally}): unsubscribe`;
      queueUnsubscribe(batch, s.row, s.event, { ...s.decision, scope: 'everywhere', reason }, deps);
      return;
    }
    const row = batch.rows[s.row]!;
    row.action = RowAction.softBounce;
    row.reason = `${s.decision.reason} (${count === 0 ? 'before the last delivery: not counted' : tally})`;
    batch.audit.push(decisionAudit(s.request.address, s.request.at, s.event, row));
  });
}

/** The action for a subject that some routed provider has not done yet. */
function actionFor(p: Pending, pendingProviders: string[]): Action {
  return {
    v: 1,
    id: p.request.subject,
    subject: p.request.subject,
    target: p.target,
    kind: p.event.kind,
    reason: p.request.reason,
    category: p.request.category,
    ...(p.bounce.rule ? { rule: p.bounce.rule } : {}),
    ...(p.bounce.bounceType ? { bounceType: p.bounce.bounceType } : {}),
    jobId: p.event.jobId,
    occurredAt: p.event.occurredAt,
    providers: pendingProviders,
    ...(p.everywhere ? { everywhere: true } : {}),
  };
}

/** Step 4: suppression state decides each row's final action and the provider actions. */
async function suppressAll(batch: Batch, deps: DecideDeps): Promise<Action[]> {
  // Record order is kept so the first record for a subject is the one that suppresses it.
  batch.pending.sort((a, b) => a.row - b.row);
  if (batch.pending.length === 0) return [];
  const outcomes = await deps.store.suppress(batch.pending.map((p) => p.request));
  const actions: Action[] = [];
  const seen = new Set<string>();
  batch.pending.forEach((p, i) => {
    const result = outcomes[i]!;
    const row = batch.rows[p.row]!;
    if (result.state === 'already') {
      row.action = RowAction.alreadySuppressed;
      row.reason = `${p.request.reason}; already suppressed`;
    } else {
      row.action = RowAction.unsubscribe;
      if (p.request.providers.length === 0)
        row.reason = `${p.request.reason}; no provider routed: recorded only`;
      else if (result.state === 'pending')
        row.reason = `${p.request.reason}; retrying ${result.pendingProviders.join(', ')}`;
      else row.reason = p.request.reason;
      if (result.pendingProviders.length > 0 && !seen.has(p.request.subject)) {
        seen.add(p.request.subject);
        actions.push(actionFor(p, result.pendingProviders));
      }
    }
    batch.audit.push(decisionAudit(p.request.subject, p.request.at, p.event, row));
  });
  return actions;
}

async function decideRecords(outcomes: readonly ParseOutcome[], deps: DecideDeps): Promise<DecideResult> {
  const batch: Batch = { rows: [], rejects: [], audit: [], pending: [], soft: [], deliveries: [] };
  for (const outcome of outcomes) decideOne(batch, outcome, deps);
  await countSoftBounces(batch, deps);
  // Step 3, after counting, so this batch's soft bounces exist: deliveries reset later counts.
  if (batch.deliveries.length > 0) await deps.store.recordDeliveries(batch.deliveries);
  const actions = await suppressAll(batch, deps);
  if (batch.audit.length > 0) await deps.store.appendAudit(batch.audit);
  return { rows: batch.rows, actions, rejects: batch.rejects };
}

export type { DecideDeps, DecideResult, ReportRow };
export { decideRecords, RowAction };
