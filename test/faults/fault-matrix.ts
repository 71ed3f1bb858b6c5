/**
 * The fault matrix (issue 7 part 1): the cloud path on this machine — the real shipper process
 * (bin/pmta-shipper.js) → fauxqs records queue → the real ingest handler module → dynalite →
 * actions queue → the real act handler module → the real MailWizz, Interspire, webhook, listmonk
 * (bounce webhook) and Mautic adapters → the provider fakes — with faults injected one at a time or in pairs, then healed. Afterwards
 * every record written to the shipper must be accounted for (a decision in the audit trail, a kept
 * reject, an ignore with its reason, or a message parked in a DLQ and redriven), no provider effect
 * may have happened twice (Interspire UnsubscribeSubscriber at most once per subscription) and the
 * suppression state must agree with the fakes.
 *
 * The parts: scenarios.ts (the faults), pipeline.ts (emulators, fakes and cuttable proxies),
 * input-records.ts (the record mix), shipper-under-test.ts, handler-faults.ts (crashes and
 * duplicate deliveries), accounting.ts (the checks), table.ts. This file runs one scenario in named
 * phases. Everything listens on 127.0.0.1; every wait is bounded.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSEvent } from 'aws-lambda';
import { envelopeBodyCodec } from '#adapters/sqs/gzip-base64.ts';
import { CONTENT_ENCODING_ATTRIBUTE, decodeEnvelope, envelopeRecords } from '#core/envelope/envelope.ts';
import { redriveQueue } from '#sandbox/redrive.ts';
import { createSqsEventSource, type SqsEventSource, type SqsHandler } from '#sandbox/sqs-event-source.ts';
import { createRandom } from '#test/support/builders.ts';
import { sleep, waitFor } from '#test/support/wait.ts';
import { account, type Written } from './accounting.ts';
import { wrapHandler } from './handler-faults.ts';
import { type InputRecord, LAYOUTS, makeInput, serialize } from './input-records.ts';
import {
  type Cleanups,
  depth,
  type Pipeline,
  setCredentials,
  setHandlerEnvironment,
  startPipeline,
} from './pipeline.ts';
import { Fault, hasFault, isKnownBug, type Scenario, type ScenarioResult, scenarios } from './scenarios.ts';
import { type Shipper, spoolBytes, spoolLines, startShipper } from './shipper-under-test.ts';
import { formatTable } from './table.ts';

type HandlerLoader = () => Promise<{ ingest: SqsHandler; act: SqsHandler }>;

interface RunOptions {
  records: number;
  seed: number;
  /** Imports the handler modules afresh (they read the environment once, at import). */
  loadHandlers: HandlerLoader;
}

/** The act function's timeout in the provider-slow scenario (its Lambda context counts down from it). */
const SLOW_ACT_TIMEOUT_MS = 5000;
const CHUNKS = 8;
const OUTAGE_MS = 4000;

/** One scenario's run: its parts, what was written, and what the ingest function finished. */
class ScenarioRun {
  private readonly random: () => number;
  private readonly details: string[] = [];
  private readonly cleanups: Cleanups = [];
  private readonly spoolDir = mkdtempSync(join(tmpdir(), 'fault-matrix-'));
  private p!: Pipeline;
  private handlers!: { ingest: SqsHandler; act: SqsHandler };
  private sources: SqsEventSource[] = [];
  /** The lines of every message the ingest function acknowledged. */
  private readonly ingested = new Set<string>();
  /** Event-source errors (expected while a fault lasts; kept for debugging). */
  private readonly sourceErrors: string[] = [];
  /** Act invocations cut off at their deadline (provider-slow: none may be). */
  private readonly overruns: string[] = [];
  private readonly written: Written[] = [];
  private shipper!: Shipper;
  /** Lines written to the shipper running now (re-fed if it is killed before reading them). */
  private sinceStart: Array<{ header: string; line: string }> = [];
  private header = '';
  private refed = 0;
  private downSince = 0;

  constructor(
    private readonly scenario: Scenario,
    private readonly options: RunOptions,
  ) {
    this.random = createRandom(options.seed);
    this.cleanups.push(() => rmSync(this.spoolDir, { recursive: true, force: true }));
  }

  private has(fault: Fault): boolean {
    return hasFault(this.scenario, fault);
  }

  async run(): Promise<ScenarioResult> {
    const started = Date.now();
    try {
      this.p = await startPipeline(this.cleanups);
      setHandlerEnvironment(this.p, !this.has(Fault.providerAuth));
      this.handlers = await this.options.loadHandlers();
      this.startEventSources();
      await this.injectProviderFaults();
      await this.feedShipper(this.makeInput());
      await this.drainShipper();
      const parked = await this.settleAndRedrive();
      for (const s of this.sources) await s.stop();
      const accounted = await account(this.scenario, this.written, this.ingested, this.p);
      if (this.overruns.length > 0)
        this.details.push(`${this.overruns.length} act invocations overran their timeout`);
      return {
        ...accounted,
        problems: [...accounted.problems, ...this.overruns],
        parked,
        refed: this.refed,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        details: this.details,
      };
    } finally {
      await this.cleanUp();
    }
  }

  private async cleanUp(): Promise<void> {
    for (const c of this.cleanups.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
  }

  private onIngestAcked = (event: SQSEvent, failed: Set<string>): void => {
    for (const r of event.Records) {
      if (failed.has(r.messageId)) continue;
      const encoding = r.messageAttributes?.[CONTENT_ENCODING_ATTRIBUTE]?.stringValue;
      const decoded = decodeEnvelope(r.body, encoding, envelopeBodyCodec);
      if (!decoded.ok) continue;
      for (const line of envelopeRecords(decoded.envelope))
        this.ingested.add(
          line.rawBase64 ? Buffer.from(line.rawBase64, 'base64').toString('utf8') : line.text,
        );
    }
  };

  /** The wrapped handlers (crashes, duplicate deliveries) behind one event source per queue. */
  private startEventSources(): void {
    const crashOn = new Set(this.has(Fault.handlerCrash) ? [2, 4, 7] : []);
    const duplicate = this.has(Fault.duplicateConcurrent)
      ? ('concurrent' as const)
      : this.has(Fault.duplicateReorder)
        ? ('sequential' as const)
        : undefined;
    const duplicateOn = (n: number) => (n % 2 !== 0 ? undefined : duplicate);
    const random = this.random;
    const ingest = wrapHandler(() => this.handlers.ingest, {
      crashOn,
      duplicateOn,
      random,
      onAcked: this.onIngestAcked,
    });
    // Every act invocation must end within its timeout, whatever the providers ask it to wait.
    const actTimeoutMs = this.has(Fault.providerSlow) ? SLOW_ACT_TIMEOUT_MS : 60_000;
    const act = wrapHandler(() => this.timedAct(this.handlers.act, actTimeoutMs), {
      crashOn,
      duplicateOn,
      random,
    });
    const { sqs, records, actions } = this.p;
    const onError = (e: unknown) => this.sourceErrors.push(String(e));
    this.sources = [
      createSqsEventSource({
        sqs,
        queueUrl: records.url,
        queueArn: records.arn,
        handler: ingest,
        functionName: 'pmta-bounce-ingest',
        concurrency: 2,
        onError,
      }),
      createSqsEventSource({
        sqs,
        queueUrl: actions.url,
        queueArn: actions.arn,
        handler: act,
        functionName: 'pmta-bounce-act',
        timeoutMs: actTimeoutMs,
        concurrency: 3,
        onError,
      }),
    ];
    for (const s of this.sources) s.start();
    this.cleanups.push(() => Promise.all(this.sources.map((s) => s.stop())));
  }

  /**
   * middy cuts a handler off at the context's deadline (answering every message failed, its work
   * carrying on unseen, as in a frozen Lambda): a handler that ends with no time left was cut off,
   * whatever it answered.
   */
  private timedAct(handler: SqsHandler, timeoutMs: number): SqsHandler {
    return async (event, context) => {
      try {
        return await handler(event, context);
      } finally {
        const left = context.getRemainingTimeInMillis();
        if (left < 50) this.overruns.push(`act used its whole ${timeoutMs} ms timeout (${left} ms left)`);
      }
    };
  }

  /** Provider faults that heal by themselves (the fakes count them down); a dead one until redrive. */
  private async injectProviderFaults(): Promise<void> {
    const { mw, iem, hook, lm, mautic } = this.p;
    const fakes = [mw.http, iem.http, hook.http, lm.http, mautic.http];
    if (this.has(Fault.provider5xx)) for (const f of fakes) f.inject({ status: 503, times: 5 });
    if (this.has(Fault.providerRefusing)) {
      // Permanent answers (3xx/4xx, not not-found): kept and retried by act, never acknowledged away.
      mw.http.inject({ status: 301, times: 6 });
      iem.http.inject({ status: 302, times: 6 });
      hook.http.inject({ status: 400, times: 6 });
    }
    if (this.has(Fault.provider429))
      for (const f of fakes) f.inject({ status: 429, retryAfter: '1', times: 5 });
    if (this.has(Fault.providerTimeout)) for (const f of fakes) f.inject({ hang: true, times: 2 });
    if (this.has(Fault.providerSlow))
      for (const f of fakes) f.inject({ status: 429, retryAfter: '8', times: 3 });
    if (this.has(Fault.providerDead)) await this.p.proxies.iem.down();
  }

  private makeInput(): InputRecord[] {
    const { mw, iem, hook, lm, mautic } = this.p;
    const subs = {
      ...{ mw, iem, hook, lm, mautic },
      mwList: mw.addList('News'),
      iemList: iem.addList('News'),
      lmList: lm.addList('News'),
      mauticSegment: mautic.addSegment('News'),
    };
    return makeInput(this.options.records, `s${this.options.seed}`, subs, this.random);
  }

  /** The input, in chunks; the layout changes once mid-stream (every chunk with header-change). */
  private async feedShipper(input: InputRecord[]): Promise<void> {
    const chunkSize = Math.ceil(input.length / CHUNKS);
    this.shipper = this.startShipper();
    const killAt = new Set(
      this.has(Fault.shipperKill)
        ? [1 + Math.floor(this.random() * 3), 4 + Math.floor(this.random() * 3)]
        : [],
    );
    for (let c = 0; c < CHUNKS; c += 1) {
      await this.writeChunk(c, input.slice(c * chunkSize, (c + 1) * chunkSize));
      if (c === 2) await this.startOutages();
      if (c === 5) await this.endOutages();
      if (killAt.has(c)) await this.killAndRestartShipper(c);
      await sleep(150);
    }
  }

  private startShipper(): Shipper {
    return startShipper(this.spoolDir, this.p.records.url, this.p.proxies.sqs.endpoint);
  }

  private async writeChunk(c: number, records: InputRecord[]): Promise<void> {
    const layout = this.has(Fault.headerChange) ? LAYOUTS[c % 2]! : LAYOUTS[c < CHUNKS / 2 ? 0 : 1]!;
    let text = '';
    if (layout !== this.header) {
      this.header = layout;
      text += `${layout}\n`;
    }
    for (const record of records) {
      const line = serialize(record, this.header);
      this.written.push({ header: this.header, line, record });
      this.sinceStart.push({ header: this.header, line });
      text += `${line}\n`;
    }
    await this.shipper.write(text);
  }

  private async startOutages(): Promise<void> {
    if (this.has(Fault.sqsDown)) await this.p.proxies.sqs.down();
    if (this.has(Fault.dynamodbDown)) await this.p.proxies.dynamo.down();
    this.downSince = Date.now();
  }

  /**
   * Outages last at least OUTAGE_MS: longer than the visibility timeout, so messages come back
   * (and may reach a DLQ) while it lasts. Bad credentials are fixed here too.
   */
  private async endOutages(): Promise<void> {
    const { sqs, dynamo } = this.p.proxies;
    if (!sqs.isUp() || !dynamo.isUp()) await sleep(Math.max(0, this.downSince + OUTAGE_MS - Date.now()));
    await this.healProxies();
    if (this.has(Fault.providerAuth)) {
      // The fix: right credentials, then fresh execution environments (a redeploy).
      setCredentials(true);
      this.handlers = await this.options.loadHandlers();
      this.details.push('credentials fixed, handlers reloaded');
    }
  }

  private async healProxies(): Promise<void> {
    const { sqs, dynamo } = this.p.proxies;
    if (!sqs.isUp()) await sqs.up();
    if (!dynamo.isUp()) await dynamo.up();
  }

  /** Kills a shipper that is running (its start takes a second): once it has read something. */
  private async killAndRestartShipper(c: number): Promise<void> {
    const last = this.sinceStart.at(-1)?.line;
    await waitFor(
      () => last === undefined || this.ingested.has(last) || spoolLines(this.spoolDir).has(last),
      10_000,
    );
    await sleep(Math.floor(this.random() * 150));
    await this.shipper.kill();
    // Whatever the killed shipper sent is ingested once SQS and the functions can; wait a little
    // so it is not taken for unread (if it is, it is only written twice: harmless).
    await waitFor(async () => (await depth(this.p.sqsDirect, this.p.records.url)) === 0, 4000);
    const kept = spoolLines(this.spoolDir);
    const unread = this.sinceStart.filter((w) => !kept.has(w.line) && !this.ingested.has(w.line));
    this.refed += unread.length;
    const writtenToIt = this.sinceStart.length;
    this.shipper = this.startShipper();
    this.sinceStart = [...unread];
    await this.refeed(unread);
    this.details.push(
      `shipper killed after chunk ${c}: ${writtenToIt} written to it, ${kept.size} lines in the spool, ${unread.length} unread written again`,
    );
  }

  /** PowerMTA writes unread records again (reconciliation): each under its own header line. */
  private async refeed(unread: Array<{ header: string; line: string }>): Promise<void> {
    this.header = '';
    let again = '';
    for (const u of unread) {
      if (u.header !== this.header) {
        this.header = u.header;
        again += `${this.header}\n`;
      }
      again += `${u.line}\n`;
    }
    if (again) await this.shipper.write(again);
  }

  /** Heals what is still broken (except the dead provider) and lets the shipper drain its spool. */
  private async drainShipper(): Promise<void> {
    await this.healProxies();
    if (!(await this.shipper.finish(15_000))) this.details.push('shipper did not exit by itself');
    for (let round = 0; round < 3 && spoolBytes(this.spoolDir) > 0; round += 1) {
      // Anything left in the spool is sent by the next start.
      this.shipper = this.startShipper();
      await this.shipper.finish(15_000);
    }
    const left = spoolBytes(this.spoolDir);
    if (left > 0) this.details.push(`spool not empty: ${left} bytes`);
  }

  /**
   * Waits for quiet queues; parked messages are counted, the provider that never recovered is
   * healed, and they are redriven (the documented path) until nothing is parked (bounded).
   */
  private async settleAndRedrive(): Promise<number> {
    const { sqsDirect, records, actions, proxies } = this.p;
    const quiet = async () =>
      (await depth(sqsDirect, records.url)) === 0 && (await depth(sqsDirect, actions.url)) === 0;
    if (!(await waitFor(quiet, 60_000))) this.details.push('queues not quiet after 60 s');
    let parked = 0;
    for (let round = 0; round < 4; round += 1) {
      const inDlq = (await depth(sqsDirect, records.dlq)) + (await depth(sqsDirect, actions.dlq));
      if (inDlq === 0) break;
      parked += inDlq;
      if (!proxies.iem.isUp()) await proxies.iem.up();
      await sleep(2000); // a claim left by a cut connection expires (CLAIM_SECONDS 6)
      for (const pair of [records, actions])
        await redriveQueue({ sqs: sqsDirect, dlqUrl: pair.dlq, targetUrl: pair.url, maxMs: 10_000 });
      if (!(await waitFor(quiet, 60_000))) this.details.push(`queues not quiet after redrive ${round + 1}`);
    }
    if (parked > 0) this.details.push(`${parked} parked in a DLQ, redriven`);
    if (!proxies.iem.isUp()) await proxies.iem.up();
    return parked;
  }
}

function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  return new ScenarioRun(scenario, options).run();
}

export type { Scenario, ScenarioResult };
export { Fault, formatTable, isKnownBug, runScenario, scenarios };
