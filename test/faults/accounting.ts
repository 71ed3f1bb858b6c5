/**
 * After a scenario: every record written must be accounted for (a decision in the audit trail, a
 * kept reject, an ignore with its message finished), no provider effect may have happened twice,
 * and the suppression state must agree with the provider fakes.
 */
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { refSubject } from '#core/act/action.ts';
import type { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import type { FakeListmonkServer } from '#sandbox/fakes/fake-listmonk-server.ts';
import type { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import type { FakeMauticServer } from '#sandbox/fakes/fake-mautic-server.ts';
import type { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { type InputRecord, parseLine } from './input-records.ts';
import type { Outcomes, Scenario, ScenarioResult } from './scenarios.ts';

interface AccountDeps {
  documents: DynamoDBDocumentClient;
  table: string;
  mw: FakeMailwizzServer;
  iem: FakeInterspireServer;
  hook: FakeWebhookServer;
  lm: FakeListmonkServer;
  mautic: FakeMauticServer;
}

interface Written {
  header: string;
  line: string;
  record: InputRecord;
}

type Item = Record<string, unknown>;

async function scanAll(documents: DynamoDBDocumentClient, table: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Record<string, unknown> | undefined;
  for (let page = 0; page < 1000; page += 1) {
    const out = await documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
    items.push(...((out.Items ?? []) as Item[]));
    start = out.LastEvaluatedKey;
    if (!start) break;
  }
  return items;
}

/** What the table holds: decisions by record key, kept rejects, providers done per subject. */
interface TableView {
  decisions: Map<string, string[]>;
  rejects: Set<string>;
  state: Map<string, Set<string>>;
}

async function readTable(deps: AccountDeps): Promise<TableView> {
  const view: TableView = { decisions: new Map(), rejects: new Set(), state: new Map() };
  for (const item of await scanAll(deps.documents, deps.table)) {
    const pk = String(item.pk);
    if (pk.startsWith('audit#') && item.type === 'decision' && typeof item.recordKey === 'string') {
      view.decisions.set(item.recordKey, [
        ...(view.decisions.get(item.recordKey) ?? []),
        String(item.action),
      ]);
    } else if (pk.startsWith('rejects#')) {
      view.rejects.add(String(item.raw));
    } else if (pk.startsWith('sub#') && item.sk === 'state') {
      const done = item.done instanceof Set ? [...item.done].map(String) : [];
      view.state.set(pk.slice(4), new Set(done));
    }
  }
  return view;
}

const ACTION_RANK = ['unsubscribe', 'already-suppressed', 'soft-bounce', 'ignore'];

/** Problems and counts gathered while accounting. */
class Tally {
  readonly outcomes: Outcomes = { done: 0, already: 0, soft: 0, ignored: 0, rejected: 0 };
  readonly problems: string[] = [];
  lost = 0;
  duplicated = 0;
  mismatched = 0;

  loseRecord(why: string, line: string): void {
    this.lost += 1;
    this.problems.push(`lost (${why}): ${line}`);
  }
}

/** Each written record's fate; returns the best decision action per line. */
function accountRecords(
  written: readonly Written[],
  ingested: ReadonlySet<string>,
  view: TableView,
  tally: Tally,
): Map<string, string | undefined> {
  const bestOf = new Map<string, string | undefined>();
  for (const w of written) {
    const parsed = parseLine(w.header, w.line);
    if (!parsed.ok && parsed.kind === 'rejected') {
      if (view.rejects.has(w.line)) tally.outcomes.rejected += 1;
      else tally.loseRecord('no reject kept', w.line);
      continue;
    }
    if (!parsed.ok) {
      // Ignored by the reader (e.g. a delivery): no state to show, but its message was finished.
      if (ingested.has(w.line)) tally.outcomes.ignored += 1;
      else tally.loseRecord('never ingested', w.line);
      continue;
    }
    const actions = view.decisions.get(parsed.event.key);
    if (!actions) {
      tally.loseRecord('no decision', w.line);
      continue;
    }
    const best = ACTION_RANK.find((a) => actions.includes(a));
    bestOf.set(w.line, best);
    if (best === 'unsubscribe') tally.outcomes.done += 1;
    else if (best === 'already-suppressed') tally.outcomes.already += 1;
    else if (best === 'soft-bounce') tally.outcomes.soft += 1;
    else tally.outcomes.ignored += 1;
  }
  return bestOf;
}

/**
 * Soft-bounce pairs of which neither record reached the threshold. It found that a pair decided
 * out of order (the earlier record's message retried) never did; fixed by counting the densest
 * window containing each bounce (functions/core/decide/soft-bounce-window.ts). Such a pair is now
 * also a state disagreement, so the count should stay 0.
 */
function softPairsNeverReached(written: readonly Written[], bestOf: Map<string, string | undefined>): number {
  const softDecisions = new Map<string, Array<string | undefined>>();
  for (const w of written) {
    const r = w.record;
    if (r.kind !== 'soft-first' && r.kind !== 'soft-second') continue;
    const address = r.fields.rcpt ?? '';
    softDecisions.set(address, [...(softDecisions.get(address) ?? []), bestOf.get(w.line)]);
  }
  let n = 0;
  for (const bests of softDecisions.values())
    if (bests.length === 2 && bests.every((b) => b === 'soft-bounce')) n += 1;
  return n;
}

/** Provider effects: at most one per subscription, and exactly where the records ask for one. */
function checkProviderEffects(expected: ReadonlySet<string>, deps: AccountDeps, tally: Tally): void {
  const check = (what: string, subject: string, effects: number) => {
    const want = expected.has(subject) ? 1 : 0;
    if (effects > 1) {
      tally.duplicated += effects - 1;
      tally.problems.push(`duplicated: ${what} ${subject} ${effects} effects`);
    } else if (effects !== want) {
      tally.mismatched += 1;
      tally.problems.push(`state: ${what} ${subject} has ${effects} effects, expected ${want}`);
    }
  };
  for (const s of deps.iem.subscribers) check('interspire', s.emailaddress, s.unsubscribeCalls);
  for (const s of deps.hook.subscriptions) check('webhook', s.email, s.changes);
  // listmonk: bounce posts per address (each one counts at listmonk); Mautic: DNCs that took effect.
  for (const s of deps.lm.subscribers) check('listmonk', s.email, deps.lm.posts.get(s.email) ?? 0);
  for (const c of deps.mautic.contacts)
    check(
      'mautic',
      c.email,
      [...c.changes.values()].reduce((a, b) => a + b, 0),
    );
  for (const s of deps.mw.subscribers) {
    const subject = s.email.startsWith('anon-')
      ? refSubject({ providerType: 'mailwizz', listId: s.listUid, subscriberId: s.uid })
      : s.email;
    check('mailwizz', subject, s.status === 'unsubscribed' ? Math.max(1, s.changes) : s.changes);
  }
}

/** The suppression state agrees: every subject to unsubscribe is suppressed and done everywhere. */
function checkSuppressionState(expected: ReadonlySet<string>, view: TableView, tally: Tally): void {
  for (const subject of expected) {
    const done = view.state.get(subject);
    const want =
      subject.startsWith('ref:') || subject.startsWith('mailwizz:')
        ? ['mw']
        : ['mw', 'iem', 'hook', 'lm', 'mautic'];
    if (!done || want.some((p) => !done.has(p))) {
      tally.mismatched += 1;
      tally.problems.push(
        `state: ${subject} done=[${[...(done ?? [])].join(',')}], expected [${want.join(',')}]`,
      );
    }
  }
}

async function account(
  scenario: Scenario,
  written: readonly Written[],
  ingested: ReadonlySet<string>,
  deps: AccountDeps,
): Promise<Omit<ScenarioResult, 'parked' | 'refed' | 'seconds' | 'details'>> {
  const view = await readTable(deps);
  const tally = new Tally();
  const bestOf = accountRecords(written, ingested, view, tally);
  const expected = new Set(written.map((w) => w.record.unsubscribes).filter((s): s is string => !!s));
  checkProviderEffects(expected, deps, tally);
  checkSuppressionState(expected, view, tally);
  return {
    name: scenario.name,
    recordsIn: written.length,
    outcomes: tally.outcomes,
    lost: tally.lost,
    duplicated: tally.duplicated,
    mismatched: tally.mismatched,
    known: softPairsNeverReached(written, bestOf),
    problems: tally.problems,
  };
}

export type { AccountDeps, Written };
export { account };
