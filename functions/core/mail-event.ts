/**
 * The one normalized record every source becomes, and the three-way result of parsing one.
 */
import type { RecordType } from './accounting/accounting-layout.ts';
import type { TrafficSample } from './guardrails/traffic.ts';

/** Identifies one subscription by the provider's own ids (mailto unsubscribes, anonymised complaints). */
interface SubscriberRef {
  /** Provider type these ids belong to (`mailwizz`, `interspire`). */
  providerType: string;
  listId: string;
  subscriberId: string;
  campaignId?: string;
}

const EventKind = {
  bounce: 'bounce',
  complaint: 'complaint',
  /** A line of the PHP bouncehandler's plain CSV: the operator asks for this address to be taken off everywhere. */
  manual: 'manual',
  /** A List-Unsubscribe mail (mailto) or a feedback report of type opt-out. */
  unsubscribe: 'unsubscribe',
} as const;
type EventKind = (typeof EventKind)[keyof typeof EventKind];

interface MailEvent {
  /** Line of the input where the record starts (1-based). */
  line: number;
  recordType: RecordType | 'plain' | 'mail';
  kind: EventKind;
  /** Normalised (trimmed, lower-cased) address; undefined when absent or anonymised. */
  recipient: string | undefined;
  orig: string | undefined;
  bounceCat: string | undefined;
  dsnAction: string | undefined;
  /** Remote MTA as PowerMTA logged it (`mx.example.net (192.0.2.1)`): mailbox-provider scopes. */
  dsnMta?: string | undefined;
  dsnStatus: string | undefined;
  dsnDiag: string | undefined;
  feedbackType: string | undefined;
  jobId: string | undefined;
  /** PowerMTA's VirtualMTA that sent the message (deliverability figures, docs/guardrails.md). */
  vmta?: string | undefined;
  /** When PowerMTA logged it, ms since epoch. */
  occurredAt: number | undefined;
  /** Provider ids found in logged `header_*` fields (anonymised complaints, mailto unsubscribes). */
  refs: SubscriberRef[];
  /** Stable identity of the record, for dedupe of replays. */
  key: string;
}

type ParseOutcome =
  | { ok: true; event: MailEvent }
  | {
      ok: false;
      kind: 'ignored';
      line: number;
      recordType: string;
      recipient: string | undefined;
      reason: string;
      /** A delivery (`d`) record's dimensions, kept for the deliverability counts; its time also
       * resets the address's soft count (docs/classification.md). */
      traffic?: TrafficSample;
    }
  | { ok: false; kind: 'rejected'; line: number; raw: string; reason: string };

export type { MailEvent, ParseOutcome, SubscriberRef };
export { EventKind };
