/**
 * Reads a local state file and its decision file (`<state>-audit`, sqlite-decision-file.ts) with
 * plain SQL, read-only, for the audit-thread tests: what is stored, and whether the two agree.
 * Written apart from the product's reads (sqlite-audit-trail.ts) so a bug there cannot hide here.
 */
import { statSync } from 'node:fs';
import Database from 'better-sqlite3';

interface DecisionFileCounts {
  /** Rows in the decision file (0 when there is none). */
  rows: number;
  /** Of them, rows whose batch the state names in audit_batches. */
  named: number;
  /** Batches the state names. */
  batches: number;
  /** Named batches the audit thread never recorded as synced (must stay 0). */
  namedUnsynced: number;
}

interface StateAgreement {
  /** Suppressed subjects without a visible `unsubscribe` decision. */
  suppressedWithoutDecision: string[];
  /** Subjects with a visible `unsubscribe` decision but no suppression row. */
  decidedWithoutSuppression: string[];
  /** Visible `unsubscribe` decisions per suppressed subject: more than one means a replayed batch shows. */
  unsubscribeDecisions: Map<string, number>;
  suppressions: number;
}

function openState(state: string): { db: Database.Database; decided: boolean } {
  const db = new Database(state, { readonly: true, fileMustExist: true });
  // Only a file: a test may have put a directory there.
  const decided = statSync(`${state}-audit`, { throwIfNoEntry: false })?.isFile() ?? false;
  if (!decided) return { db, decided };
  db.prepare('ATTACH DATABASE ? AS decided').run(`${state}-audit`);
  // A file the thread created but never wrote has no tables: as good as none.
  const table = db.prepare("SELECT 1 FROM decided.sqlite_master WHERE name = 'decisions'").get();
  return { db, decided: table !== undefined };
}

function decisionFileCounts(state: string): DecisionFileCounts {
  const { db, decided } = openState(state);
  try {
    const batches = (db.prepare('SELECT count(*) AS n FROM audit_batches').get() as { n: number }).n;
    if (!decided) return { rows: 0, named: 0, batches, namedUnsynced: batches };
    const one = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
    return {
      rows: one('SELECT count(*) AS n FROM decided.decisions'),
      named: one(
        'SELECT count(*) AS n FROM decided.decisions WHERE batch IN (SELECT batch FROM main.audit_batches)',
      ),
      batches,
      namedUnsynced: one(
        'SELECT count(*) AS n FROM main.audit_batches WHERE batch NOT IN (SELECT batch FROM decided.synced_batches)',
      ),
    };
  } finally {
    db.close();
  }
}

/** Suppressions against the visible `unsubscribe` decisions: the state and its audit must agree. */
function stateAgreement(state: string): StateAgreement {
  const { db, decided } = openState(state);
  try {
    const action = "(SELECT id FROM main.texts WHERE text = 'unsubscribe')";
    const decision = "(SELECT id FROM main.texts WHERE text = 'decision')";
    const fromFile = decided
      ? `UNION ALL SELECT subject FROM decided.decisions WHERE action = ${action} AND type = ${decision}
           AND batch IN (SELECT batch FROM main.audit_batches)`
      : '';
    const rows = db
      .prepare(
        `SELECT subject, count(*) AS n FROM (
           SELECT subject FROM main.audit_trail WHERE action = ${action} AND type = ${decision} ${fromFile}
         ) GROUP BY subject`,
      )
      .all() as Array<{ subject: string; n: number }>;
    const unsubscribeDecisions = new Map(rows.map((r) => [r.subject, r.n]));
    const suppressed = new Set(
      (db.prepare('SELECT subject FROM suppressions').all() as Array<{ subject: string }>).map(
        (r) => r.subject,
      ),
    );
    return {
      suppressedWithoutDecision: [...suppressed].filter((s) => !unsubscribeDecisions.has(s)),
      decidedWithoutSuppression: [...unsubscribeDecisions.keys()].filter((s) => !suppressed.has(s)),
      unsubscribeDecisions,
      suppressions: suppressed.size,
    };
  } finally {
    db.close();
  }
}

export type { DecisionFileCounts, StateAgreement };
export { decisionFileCounts, stateAgreement };
