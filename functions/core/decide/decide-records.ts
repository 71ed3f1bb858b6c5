/**
 * The orchestrator shared by local mode and the ingest function: a batch of parsed records →
 * decisions → suppression state → one Action per subject that still needs provider calls, plus
 * one report row per record (interfaces.md `--report`) and the decision audit.
 * It sees only ports; adapters are passed in.
 */
import { type Action, refSubject } from '../act/action.ts';
import type { Classifier } from '../classify/classify.ts';
import type { PolicyConfig } from '../config-schema.ts';
import type { MailEvent, ParseOutcome } from '../mail-event.ts';
import type {
  AuditEntry,
  SoftBounceRequest,
  SuppressionRequest,
  SuppressionStore,
} from '../suppression-store.ts';
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

function recipientLabel(event: MailEvent): string | undefined {
  return event.recipient ?? (event.refs[0] ? refSubject(event.refs[0]) : undefined);
}

/** Where a suppression came from, kept with it for `suppressions export` and `undo` selections. */
function provenance(event: MailEvent, bounce: BounceDetail): Partial<SuppressionRequest> {
  return {
    recordType: event.recordType,
    ...(bounce.rule ? { rule: bounce.rule } : {}),
    ...(event.jobId ? { jobId: event.jobId } : {}),
  };
}

async function decideRecords(outcomes: readonly ParseOutcome[], deps: DecideDeps): Promise<DecideResult> {
  const { policy, router, store } = deps;
  const rows: ReportRow[] = [];
  const rejects: DecideResult['rejects'] = [];
  const audit: AuditEntry[] = [];
  const pending: Pending[] = [];
  const soft: Array<{
    row: number;
    event: MailEvent;
    request: SoftBounceRequest;
    reason: string;
    category?: string;
    bounce: BounceDetail;
  }> = [];

  const unsubscribeRequests = (
    row: number,
    event: MailEvent,
    scope: 'everywhere' | 'list',
    reason: string,
    category: string | undefined,
    bounce: BounceDetail,
  ) => {
    const at = event.occurredAt ?? deps.now();
    if (scope === 'everywhere' && event.recipient) {
      pending.push({
        row,
        event,
        bounce,
        target: { type: 'email', address: event.recipient },
        request: {
          subject: event.recipient,
          kind: event.kind,
          category,
          reason,
          recordKey: event.key,
          at,
          providers: router.forAddress(event.orig),
          ...provenance(event, bounce),
        },
      });
      return;
    }
    // Everywhere, but only the ids are known (a feedback report that hid the recipient): by ids,
    // flagged so the act side resolves them to the address and widens (core/act/widen-action.ts),
    // routed to every provider of the sender.
    const everywhere = scope === 'everywhere';
    for (const ref of event.refs) {
      pending.push({
        row,
        event,
        bounce,
        target: { type: 'ref', ref },
        ...(everywhere ? { everywhere } : {}),
        request: {
          subject: refSubject(ref),
          kind: event.kind,
          category,
          reason,
          recordKey: event.key,
          at,
          providers: everywhere ? router.forAddress(event.orig) : router.forRef(ref, event.orig),
          ...provenance(event, bounce),
        },
      });
    }
  };

  for (const outcome of outcomes) {
    const row = rows.length;
    if (!outcome.ok) {
      if (outcome.kind === 'rejected') {
        rows.push({
          line: outcome.line,
          type: outcome.raw.split(',', 1)[0]!.slice(0, 8),
          recipient: undefined,
          category: undefined,
          action: RowAction.reject,
          reason: outcome.reason,
        });
        rejects.push({ line: outcome.line, raw: outcome.raw, reason: outcome.reason });
      } else {
        rows.push({
          line: outcome.line,
          type: outcome.recordType,
          recipient: outcome.recipient,
          category: undefined,
          action: RowAction.ignore,
          reason: outcome.reason,
        });
      }
      continue;
    }
    const event = outcome.event;
    const classification = event.kind === 'bounce' ? deps.classifier(event) : undefined;
    const decision = decide(event, classification, policy);
    rows.push({
      line: event.line,
      type: event.recordType,
      recipient: recipientLabel(event),
      category: decision.category,
      action: RowAction.ignore,
      reason: decision.reason,
    });
    if (decision.intent === Intent.ignore) {
      audit.push({
        subject: recipientLabel(event) ?? '',
        at: event.occurredAt ?? deps.now(),
        type: 'decision',
        action: RowAction.ignore,
        reason: decision.reason,
        line: event.line,
        recordKey: event.key,
      });
    } else if (decision.intent === Intent.softBounce && event.recipient) {
      soft.push({
        row,
        event,
        request: { address: event.recipient, recordKey: event.key, at: event.occurredAt ?? deps.now() },
        reason: decision.reason,
        ...(decision.category ? { category: decision.category } : {}),
        bounce: { rule: decision.rule, bounceType: decision.bounceType },
      });
    } else {
      const bounce = { rule: decision.rule, bounceType: decision.bounceType };
      unsubscribeRequests(row, event, decision.scope, decision.reason, decision.category, bounce);
    }
  }

  if (soft.length > 0) {
    const counts = await store.recordSoftBounces(
      soft.map((s) => s.request),
      policy.soft.windowDays * DAY_MS,
    );
    soft.forEach((s, i) => {
      const count = counts[i] ?? 1;
      const tally = `${count} within ${policy.soft.windowDays}d, threshold ${policy.soft.threshold}`;
      if (softLimitReached(count, policy)) {
        const reason = `${s.reason} (${tally}): unsubscribe`;
        unsubscribeRequests(s.row, s.event, 'everywhere', reason, s.category, s.bounce);
      } else {
        rows[s.row]!.action = RowAction.softBounce;
        rows[s.row]!.reason = `${s.reason} (${tally})`;
        audit.push({
          subject: s.request.address,
          at: s.request.at,
          type: 'decision',
          action: RowAction.softBounce,
          reason: rows[s.row]!.reason,
          line: s.event.line,
          recordKey: s.event.key,
        });
      }
    });
  }

  // Record order is kept so the first record for a subject is the one that suppresses it.
  pending.sort((a, b) => a.row - b.row);
  const outcomesBySuppression = pending.length > 0 ? await store.suppress(pending.map((p) => p.request)) : [];
  const actions: Action[] = [];
  const seen = new Set<string>();
  pending.forEach((p, i) => {
    const result = outcomesBySuppression[i]!;
    const row = rows[p.row]!;
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
        actions.push({
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
          providers: result.pendingProviders,
          ...(p.everywhere ? { everywhere: true } : {}),
        });
      }
    }
    audit.push({
      subject: p.request.subject,
      at: p.request.at,
      type: 'decision',
      action: row.action,
      reason: row.reason,
      line: p.event.line,
      recordKey: p.event.key,
    });
  });

  if (audit.length > 0) await store.appendAudit(audit);
  return { rows, actions, rejects };
}

export type { DecideDeps, DecideResult, ReportRow };
export { decideRecords, RowAction };
