/**
 * An in-memory SuppressionStore with the same semantics as the SQLite adapter (first suppress is
 * `new`, later ones `pending` while routed providers are not done, else `already`), for tests that
 * need the port without a database.
 */
import { countSoftBounces, laterReset, type SoftCounting } from '#core/decide/soft-bounce-window.ts';
import type {
  AuditEntry,
  DeliveryRequest,
  SoftBounceRequest,
  SubjectStatus,
  SuppressionOutcome,
  SuppressionRequest,
  SuppressionStore,
} from '#core/ports.ts';

interface MemorySuppression {
  request: SuppressionRequest;
  providersDone: Set<string>;
}

class MemorySuppressionStore implements SuppressionStore {
  readonly suppressions = new Map<string, MemorySuppression>();
  readonly softBounces = new Map<string, Map<string, number>>();
  readonly softResets = new Map<string, number>();
  readonly audit: AuditEntry[] = [];
  /** Throws this from every write when set (store outage). */
  failWith: Error | undefined;
  /** Clock for expiry: a provisional suppression past its expiresAt counts as absent. */
  now: () => number = () => Date.now();

  async suppress(requests: readonly SuppressionRequest[]): Promise<SuppressionOutcome[]> {
    if (this.failWith) throw this.failWith;
    const insertedNow = new Set<string>();
    return requests.map((r): SuppressionOutcome => {
      const found = this.suppressions.get(r.subject);
      const expiresAt = found?.request.expiresAt;
      const existing = expiresAt !== undefined && expiresAt <= this.now() ? undefined : found;
      if (!existing) {
        this.suppressions.set(r.subject, { request: r, providersDone: new Set() });
        insertedNow.add(r.subject);
        return { subject: r.subject, state: 'new', pendingProviders: [...r.providers] };
      }
      if (insertedNow.has(r.subject)) return { subject: r.subject, state: 'already', pendingProviders: [] };
      const pendingProviders = r.providers.filter((p) => !existing.providersDone.has(p));
      return {
        subject: r.subject,
        state: pendingProviders.length > 0 ? 'pending' : 'already',
        pendingProviders,
      };
    });
  }

  async recordSoftBounces(
    requests: readonly SoftBounceRequest[],
    counting: SoftCounting | number,
  ): Promise<number[]> {
    if (this.failWith) throw this.failWith;
    return requests.map((r) => {
      const keys = this.softBounces.get(r.address) ?? new Map<string, number>();
      this.softBounces.set(r.address, keys);
      if (!keys.has(r.recordKey)) keys.set(r.recordKey, r.at);
      return countSoftBounces(
        keys.values(),
        r.at,
        counting,
        laterReset(this.softResets.get(r.address), r.resetAt),
      );
    });
  }

  async recordDeliveries(deliveries: readonly DeliveryRequest[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    for (const d of deliveries) {
      if (!this.softBounces.has(d.address)) continue;
      this.softResets.set(d.address, Math.max(d.at, this.softResets.get(d.address) ?? d.at));
    }
  }

  async markProvider(subject: string, provider: string, outcome: 'done' | 'failed'): Promise<void> {
    if (this.failWith) throw this.failWith;
    if (outcome === 'done') this.suppressions.get(subject)?.providersDone.add(provider);
  }

  async appendAudit(entries: readonly AuditEntry[]): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.audit.push(...entries);
  }

  async confirm(subject: string): Promise<void> {
    if (this.failWith) throw this.failWith;
    const s = this.suppressions.get(subject);
    if (s) s.request = { ...s.request, expiresAt: undefined };
    for (const [i, e] of this.audit.entries())
      if (e.subject === subject && e.expiresAt !== undefined) this.audit[i] = { ...e, expiresAt: undefined };
  }

  async status(subject: string): Promise<SubjectStatus> {
    const now = this.now();
    const live = (expiresAt: number | undefined) => expiresAt === undefined || expiresAt > now;
    const found = this.suppressions.get(subject);
    const s = found && live(found.request.expiresAt) ? found : undefined;
    return {
      subject,
      suppressed: s
        ? {
            at: s.request.at,
            kind: s.request.kind,
            category: s.request.category,
            reason: s.request.reason,
            providersDone: [...s.providersDone].sort(),
            ...(s.request.expiresAt === undefined ? {} : { expiresAt: s.request.expiresAt }),
          }
        : undefined,
      softBounces: [...(this.softBounces.get(subject)?.entries() ?? [])].map(([recordKey, at]) => ({
        at,
        recordKey,
      })),
      audit: this.audit.filter((e) => e.subject === subject && live(e.expiresAt)),
    };
  }

  async close(): Promise<void> {}
}

export { MemorySuppressionStore };
