/**
 * The canary credential for the security tests: one obviously fake value put in every credential
 * slot they use (provider keys, tokens, webhook secrets, Secrets Manager values, `${VAR}`s). It
 * must never show up in a log line, an error, a report or a metric. vitest.config.ts sets it in the
 * test environment; scripts/scan-canary.ts scans the whole `npm test` output for it in CI.
 */
import { expect } from 'vitest';
import { canaryForms, TEST_CANARY } from '../../scripts/scan-canary.ts';

const CANARY_ENV = 'PMTA_BOUNCE_TEST_CANARY';
const CANARY = process.env[CANARY_ENV] || TEST_CANARY;

/** Names of the canary's forms (raw, URL-encoded, base64...) that `text` contains. */
function canaryHits(text: string): string[] {
  return canaryForms(CANARY)
    .filter(([, form]) => text.includes(form))
    .map(([name]) => name);
}

/**
 * Asserts no form of the canary is in any captured value. On failure it names where, never the
 * text itself (printing it would put the canary in the test output).
 */
function expectNoCanary(captured: Record<string, unknown>): void {
  const leaks: string[] = [];
  for (const [where, value] of Object.entries(captured)) {
    const text = typeof value === 'string' ? value : safeJson(value);
    const hits = canaryHits(text);
    if (hits.length > 0) leaks.push(`${where}: ${hits.join(',')}`);
  }
  expect(leaks, 'the canary credential leaked into these outputs').toEqual([]);
}

/** JSON of anything, errors included (name, message, stack, cause, own fields); never throws. */
function safeJson(value: unknown): string {
  const seen = new WeakSet<object>();
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return String(v);
      if (typeof v !== 'object' || v === null) return v;
      if (seen.has(v)) return '[circular]';
      seen.add(v);
      if (v instanceof Error)
        return { ...v, name: v.name, message: v.message, stack: v.stack, cause: v.cause };
      if (v instanceof Map) return Object.fromEntries(v);
      return v;
    }) ?? String(value)
  );
}

export { CANARY, CANARY_ENV, canaryHits, expectNoCanary, safeJson };
