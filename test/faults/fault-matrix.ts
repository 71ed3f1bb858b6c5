/**
 * The fault matrix (issue 7 part 1): the cloud path on this machine — the real shipper process
 * (bin/pmta-shipper.js) → fauxqs records queue → the real ingest handler module → dynalite →
 * actions queue → the real act handler module → the real MailWizz, Interspire, webhook, listmonk
 * (bounce webhook) and Mautic adapters
 * → the provider fakes — with faults injected one at a time or in pairs, then healed. Afterwards
 * every record written to the shipper must be accounted for (a decision in the audit trail, a kept
 * reject, an ignore with its reason, or a message parked in a DLQ and redriven), no provider effect
 * may have happened twice (Interspire UnsubscribeSubscriber at most once per subscription) and the
 * suppression state must agree with the fakes.
 *
 * The pieces are composed here rather than through startSandbox: every connection to fauxqs,
 * dynalite and the providers goes through a cuttable TCP proxy (tcp-proxy.ts), and the handlers are
 * wrapped (crash mid-batch, duplicated and reordered deliveries) before the event sources get them.
 * Everything listens on 127.0.0.1; every wait is bounded.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type SQSClient,
  SQSClient as SqsClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createBounceTable } from '#adapters/dynamodb/dynamodb-table.ts';
import { envelopeBodyCodec } from '#adapters/sqs/gzip-base64.ts';
import { createAccountingReader } from '#core/accounting/accounting-reader.ts';
import { refSubject } from '#core/act/action.ts';
import { CONTENT_ENCODING_ATTRIBUTE, decodeEnvelope, envelopeRecords } from '#core/envelope/envelope.ts';
import type { ParseOutcome } from '#core/mail-event.ts';
import { ENV } from '#lambda/env.ts';
import { TUNING_ENV } from '#lambda/wiring.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { FakeListmonkServer } from '#sandbox/fakes/fake-listmonk-server.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeMauticServer } from '#sandbox/fakes/fake-mautic-server.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import { redriveQueue } from '#sandbox/redrive.ts';
import { startDynalite } from '#sandbox/servers.ts';
import { createSqsEventSource, type SqsEventSource, type SqsHandler } from '#sandbox/sqs-event-source.ts';
import { startSqsServer } from '#test/support/sqs-server.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

const ROOT = join(import.meta.dirname, '../..');

const Fault = {
  shipperKill: 'shipper-kill',
  sqsDown: 'sqs-down',
  dynamodbDown: 'dynamodb-down',
  provider5xx: 'provider-5xx',
  provider429: 'provider-429',
  providerTimeout: 'provider-timeout',
  providerAuth: 'provider-auth',
  /** A misconfigured URL for a while (a redirect, a refused request), then fixed: nothing is dropped. */
  providerRefusing: 'provider-3xx-4xx',
  providerDead: 'provider-dead',
  /** Providers ask for a Retry-After longer than act's time left: act must not sleep past it. */
  providerSlow: 'provider-slow',
  handlerCrash: 'handler-crash',
  duplicateReorder: 'duplicate-reorder',
  duplicateConcurrent: 'duplicate-concurrent',
  headerChange: 'header-change',
} as const;
type Fault = (typeof Fault)[keyof typeof Fault];

interface Scenario {
  name: string;
  faults: readonly Fault[];
}

const SINGLE_FAULTS: readonly Fault[] = Object.values(Fault);

/**
 * Faults that still find a bug (reported, not fixed here): the scenario runs and prints, and the
 * test expects it to fail until the fix lands. None now: duplicate-concurrent found that the act
 * claim token was the SQS message id, which a message delivered twice at once keeps (fixed: one
 * token per receipt handle).
 */
const KNOWN_BUGS: ReadonlySet<Fault> = new Set<Fault>([]);
const isKnownBug = (s: Scenario) => s.faults.some((f) => KNOWN_BUGS.has(f));

/** Reduced (CI): no fault, then each fault alone. Full: also every pair. */
function scenarios(mode: 'reduced' | 'full'): Scenario[] {
  const out: Scenario[] = [{ name: 'none', faults: [] }];
  for (const f of SINGLE_FAULTS) out.push({ name: f, faults: [f] });
  if (mode === 'full') {
    for (let i = 0; i < SINGLE_FAULTS.length; i += 1)
      for (let j = i + 1; j < SINGLE_FAULTS.length; j += 1) {
        const pair = [SINGLE_FAULTS[i]!, SINGLE_FAULTS[j]!];
        out.push({ name: pair.join(' + '), faults: pair });
      }
  }
  return out;
}

interface ScenarioResult {
  name: string;
  recordsIn: number;
  outcomes: {
    done: number;
    already: number;
    soft: number;
    ignored: number;
    rejected: number;
  };
  /** Messages found in a DLQ once quiet (then redriven and finished). */
  parked: number;
  /** Records written to a killed shipper that it had not read (written again, as PowerMTA would). */
  refed: number;
  lost: number;
  duplicated: number;
  /** Suppression state or a fake disagrees with what the records ask for. */
  mismatched: number;
  /** Soft-bounce pairs of which neither record reached the threshold (should be 0). */
  known: number;
  seconds: number;
  details: string[];
  /** One line per lost record, duplicated effect or disagreement. */
  problems: string[];
}

type HandlerLoader = () => Promise<{ ingest: SqsHandler; act: SqsHandler }>;

interface RunOptions {
  records: number;
  seed: number;
  /** Imports the handler modules afresh (they read the environment once, at import). */
  loadHandlers: HandlerLoader;
}

/** mulberry32: deterministic, seeded. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls every 100 ms for at most `ms`; returns whether the check passed. */
async function waitFor(check: () => boolean | Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return false;
}

// ---------------------------------------------------------------- input: records and layouts

const COLUMNS = [
  'timeLogged',
  'orig',
  'rcpt',
  'dsnAction',
  'dsnStatus',
  'dsnDiag',
  'bounceCat',
  'jobId',
  'envId',
  'feedbackType',
  'header_X-Mw-Subscriber-Uid',
  'header_X-Mw-List-Uid',
] as const;
type Column = (typeof COLUMNS)[number];
/** Two layouts of the same fields: the header line changes mid-stream between them. */
const LAYOUTS = [`type,${COLUMNS.join(',')}`, `type,${[...COLUMNS].reverse().join(',')}`] as const;

const RecordKind = {
  hard: 'hard',
  hardAgain: 'hard-again',
  softFirst: 'soft-first',
  softSecond: 'soft-second',
  softSingle: 'soft-single',
  complaint: 'complaint',
  anonymousComplaint: 'anonymous-complaint',
  delivery: 'delivery',
  policy: 'policy',
  malformed: 'malformed',
} as const;
type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];

interface InputRecord {
  kind: RecordKind;
  fields: Partial<Record<Column, string>> & { type: string };
  /** Subject that must end unsubscribed at its providers, if any. */
  unsubscribes?: string;
  /** Malformed lines are written as they are. */
  raw?: string;
}

function pmtaTime(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}+0000`;
}

function serialize(record: InputRecord, header: string): string {
  if (record.raw !== undefined) return record.raw;
  return header
    .split(',')
    .map((c) => (c === 'type' ? record.fields.type : (record.fields[c as Column] ?? '')))
    .join(',');
}

interface Subscriptions {
  mw: FakeMailwizzServer;
  iem: FakeInterspireServer;
  hook: FakeWebhookServer;
  mwList: string;
  iemList: string;
  /** listmonk (bounce webhook) and Mautic (DNC), issue 18. */
  lm: FakeListmonkServer;
  lmList: number;
  mautic: FakeMauticServer;
  mauticSegment: number;
}

/**
 * The record mix, in the order written. Addresses are subscribed at all three providers (the
 * anonymised complaints' subscriptions exist only at MailWizz, whose ids they carry).
 */
function makeInput(n: number, tag: string, subs: Subscriptions, random: () => number): InputRecord[] {
  const base = Date.now() - 3_600_000;
  let clock = 0;
  const time = () => {
    clock += 1_000;
    return pmtaTime(base + clock);
  };
  const email = (kind: string, i: number) => `${kind}-${i}.${tag}@example.org`;
  const subscribe = (address: string) => {
    subs.mw.addSubscriber(subs.mwList, address);
    subs.lm.subscribe(address, subs.lmList);
    subs.mautic.addContact(address, subs.mauticSegment);
    subs.iem.addSubscriber(subs.iemList, address);
    subs.hook.subscribe(address, 'hooklist');
  };
  const bounce = (rcpt: string, cat: string, status: string, i: number, kind: RecordKind): InputRecord => ({
    kind,
    fields: {
      type: 'b',
      timeLogged: time(),
      orig: 'news@example.com',
      rcpt,
      dsnAction: 'failed',
      dsnStatus: status,
      dsnDiag: `smtp;${status.slice(0, 5)} rejected ${i}`,
      bounceCat: cat,
      jobId: `job-${tag}`,
      envId: `env-${i}`,
    },
  });
  const out: InputRecord[] = [];
  const hardAddresses: string[] = [];
  const softPending: Array<{ address: string; at: number }> = [];
  for (let i = 0; out.length < n; i += 1) {
    const roll = random();
    if (roll < 0.25) {
      const a = email('hard', i);
      subscribe(a);
      hardAddresses.push(a);
      out.push({
        ...bounce(a, 'bad-mailbox', '5.1.1 (bad destination mailbox address)', i, 'hard'),
        unsubscribes: a,
      });
    } else if (roll < 0.32 && hardAddresses.length > 0) {
      const a = hardAddresses[Math.floor(random() * hardAddresses.length)]!;
      out.push({
        ...bounce(a, 'bad-domain', '5.1.2 (bad destination system address)', i, 'hard-again'),
        unsubscribes: a,
      });
    } else if (roll < 0.47) {
      // The first of a pair; the second comes a few records later (threshold 2).
      const a = email('soft', i);
      subscribe(a);
      softPending.push({ address: a, at: out.length });
      out.push(bounce(a, 'quota-issues', '4.2.2 (mailbox full)', i, 'soft-first'));
    } else if (roll < 0.52) {
      const a = email('softone', i);
      subscribe(a);
      out.push(bounce(a, 'quota-issues', '4.2.2 (mailbox full)', i, 'soft-single'));
    } else if (roll < 0.62) {
      const a = email('complaint', i);
      subscribe(a);
      out.push({
        kind: 'complaint',
        fields: {
          type: 'f',
          timeLogged: time(),
          orig: 'news@example.com',
          rcpt: a,
          jobId: `job-${tag}`,
          envId: `env-${i}`,
          feedbackType: 'abuse',
        },
        unsubscribes: a,
      });
    } else if (roll < 0.68) {
      const uid = subs.mw.addSubscriber(subs.mwList, email('anon', i));
      const subject = refSubject({ providerType: 'mailwizz', listId: subs.mwList, subscriberId: uid });
      out.push({
        kind: 'anonymous-complaint',
        fields: {
          type: 'f',
          timeLogged: time(),
          orig: 'news@example.com',
          jobId: `job-${tag}`,
          envId: `env-${i}`,
          feedbackType: 'abuse',
          'header_X-Mw-Subscriber-Uid': uid,
          'header_X-Mw-List-Uid': subs.mwList,
        },
        unsubscribes: subject,
      });
    } else if (roll < 0.8) {
      const a = email('delivered', i);
      subscribe(a);
      out.push({
        kind: 'delivery',
        fields: {
          type: 'd',
          timeLogged: time(),
          orig: 'news@example.com',
          rcpt: a,
          dsnAction: 'relayed',
          dsnStatus: '2.0.0 (success)',
          dsnDiag: 'smtp;250 ok',
          jobId: `job-${tag}`,
          envId: `env-${i}`,
        },
      });
    } else if (roll < 0.88) {
      const a = email('policy', i);
      subscribe(a);
      out.push(bounce(a, 'policy-related', '5.7.1 (delivery not authorized)', i, 'policy'));
    } else {
      out.push({ kind: 'malformed', fields: { type: 'b' }, raw: `b,not a record ${tag} ${i}` });
    }
    const due = softPending[0];
    if (due && out.length - due.at >= 4) {
      softPending.shift();
      out.push({
        ...bounce(due.address, 'quota-issues', '4.2.2 (mailbox full)', i + 100_000, 'soft-second'),
        unsubscribes: due.address,
      });
    }
  }
  for (const due of softPending) {
    out.push({
      ...bounce(due.address, 'quota-issues', '4.2.2 (mailbox full)', out.length + 200_000, 'soft-second'),
      unsubscribes: due.address,
    });
  }
  return out;
}

/** The record's outcome from the core reader, under the header it was written with. */
function parseLine(header: string, line: string): ParseOutcome {
  let outcome: ParseOutcome | undefined;
  const reader = createAccountingReader({}, (o) => {
    outcome ??= o;
  });
  reader.write(`${header}\n${line}\n`);
  reader.end();
  if (!outcome) throw new Error(`no outcome for ${line}`);
  return outcome;
}

// ---------------------------------------------------------------- the shipper process

interface Shipper {
  write(text: string): Promise<void>;
  kill(): Promise<void>;
  /** Closes stdin and waits for a clean exit (bounded). */
  finish(ms: number): Promise<boolean>;
}

function startShipper(spoolDir: string, queueUrl: string, endpoint: string): Shipper {
  const child = spawn(
    process.execPath,
    [
      join(ROOT, 'bin/pmta-shipper.js'),
      '--queue-url',
      queueUrl,
      '--endpoint-url',
      endpoint,
      '--region',
      'us-east-1',
      '--spool-dir',
      spoolDir,
      '--flush-interval-ms',
      '100',
      '--drain-timeout-ms',
      '3000',
      '--stats-interval-ms',
      '600000',
    ],
    {
      cwd: ROOT,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin?.on('error', () => {});
  return {
    write: (text) =>
      new Promise((resolve) => {
        if (!child.stdin || child.stdin.destroyed) return resolve();
        child.stdin.write(text, () => resolve());
      }),
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
    async finish(ms) {
      child.stdin?.end();
      const timer = sleep(ms).then(() => false);
      const ok = await Promise.race([exited.then(() => true), timer]);
      if (!ok) {
        child.kill('SIGKILL');
        await exited;
      }
      return ok;
    },
  };
}

/** Every complete line in the spool's segment files (what the shipper has read and kept). */
function spoolLines(spoolDir: string): Set<string> {
  const lines = new Set<string>();
  for (const name of readdirSync(spoolDir)) {
    if (!name.endsWith('.seg')) continue;
    const text = readFileSync(join(spoolDir, name), 'utf8');
    const parts = text.split('\n');
    parts.pop(); // the last part has no line end yet
    for (const l of parts) lines.add(l);
  }
  return lines;
}

function spoolBytes(spoolDir: string): number {
  let n = 0;
  for (const name of readdirSync(spoolDir))
    if (name.endsWith('.seg')) n += readFileSync(join(spoolDir, name)).length;
  return n;
}

// ---------------------------------------------------------------- handler wrappers

function failures(response: unknown): Set<string> {
  const list = (response as SQSBatchResponse | undefined)?.batchItemFailures;
  return new Set(Array.isArray(list) ? list.map((f) => f.itemIdentifier) : []);
}

interface WrapOptions {
  /** Crash (throw) after handling the first half of these invocation numbers (1-based). */
  crashOn: ReadonlySet<number>;
  /**
   * Deliver these invocations twice in shuffled order: `sequential` (the second delivery after
   * the first finished: an acknowledgement lost) or `concurrent` (both at once, the second with
   * its own receipt handle, as SQS's at-least-once delivery can do).
   */
  duplicateOn: (invocation: number) => 'sequential' | 'concurrent' | undefined;
  random: () => number;
  onAcked?: (event: SQSEvent, failed: Set<string>) => void;
}

/** `current()` is read at each call, so a reload (a fresh cold start) takes effect at once. */
function wrapHandler(current: () => SqsHandler, options: WrapOptions): SqsHandler {
  let invocations = 0;
  return async (event, context) => {
    invocations += 1;
    const n = invocations;
    const handler = current();
    if (options.crashOn.has(n) && event.Records.length > 0) {
      // A crash mid-batch: the first half took effect, then the runtime died (no response, so
      // every message of the batch returns to the queue).
      const half = event.Records.slice(0, Math.ceil(event.Records.length / 2));
      await handler({ Records: half }, context);
      throw new Error(`injected crash in invocation ${n}`);
    }
    let response: unknown;
    const duplicate = options.duplicateOn(n);
    if (duplicate) {
      const shuffled = [...event.Records].sort(() => options.random() - 0.5);
      const second = [...shuffled]
        .reverse()
        .map((r) =>
          duplicate === 'concurrent' ? { ...r, receiptHandle: `${r.receiptHandle}-duplicate` } : r,
        );
      const [a, b] =
        duplicate === 'concurrent'
          ? await Promise.allSettled([
              handler({ Records: shuffled }, context),
              handler({ Records: second }, context),
            ])
          : [
              await Promise.allSettled([handler({ Records: shuffled }, context)]).then((x) => x[0]!),
              await Promise.allSettled([handler({ Records: second }, context)]).then((x) => x[0]!),
            ];
      if (a.status === 'rejected') throw a.reason;
      if (b.status === 'rejected') throw b.reason;
      const failed = new Set([...failures(a.value), ...failures(b.value)]);
      response = { batchItemFailures: [...failed].map((itemIdentifier) => ({ itemIdentifier })) };
    } else {
      response = await handler(event, context);
    }
    options.onAcked?.(event, failures(response));
    return response;
  };
}

// ---------------------------------------------------------------- one scenario

const FAKE = {
  mwKey: 'fault-matrix-mw-key-0123456789',
  iemUser: 'admin',
  iemToken: 'fault-matrix-iem-token-0123456789',
  hookSecret: `whsec_${Buffer.from('fault-matrix-webhook-secret-only').toString('base64')}`,
  lmToken: 'fault-matrix-listmonk-token-0123456789',
  mauticSecret: 'fault-matrix-mautic-secret-0123456789',
} as const;
const CREDENTIAL_ENV = {
  mwKey: 'FAULT_MATRIX_MW_KEY',
  iemToken: 'FAULT_MATRIX_IEM_TOKEN',
  hookSecret: 'FAULT_MATRIX_HOOK_SECRET',
  lmToken: 'FAULT_MATRIX_LISTMONK_TOKEN',
  mauticSecret: 'FAULT_MATRIX_MAUTIC_SECRET',
} as const;
const MAX_RECEIVES = 4;
/** The act function's timeout in the provider-slow scenario (its Lambda context counts down from it). */
const SLOW_ACT_TIMEOUT_MS = 5000;
const CHUNKS = 8;
const OUTAGE_MS = 4000;

async function queueArn(sqs: SQSClient, url: string): Promise<string> {
  const out = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  return out.Attributes?.QueueArn as string;
}

async function depth(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

async function createQueuePair(sqs: SQSClient, name: string) {
  const dlq = (await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }))).QueueUrl as string;
  const dlqArn = await queueArn(sqs, dlq);
  const url = (
    await sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: '2',
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: MAX_RECEIVES }),
        },
      }),
    )
  ).QueueUrl as string;
  return { url, arn: await queueArn(sqs, url), dlq };
}

function withPort(url: string, proxy: TcpProxy): string {
  const u = new URL(url);
  u.port = String(proxy.port);
  return u.toString().replace(/\/$/, '');
}

async function runScenario(scenario: Scenario, options: RunOptions): Promise<ScenarioResult> {
  const started = Date.now();
  const has = (f: Fault) => scenario.faults.includes(f);
  const random = rng(options.seed);
  const details: string[] = [];
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const spoolDir = mkdtempSync(join(tmpdir(), 'fault-matrix-'));
  cleanups.push(() => rmSync(spoolDir, { recursive: true, force: true }));
  try {
    // Emulators, fakes, and a proxy in front of each.
    const sqsServer = await startSqsServer();
    cleanups.push(() => sqsServer.stop());
    const dynamo = await startDynalite();
    cleanups.push(() => dynamo.stop());
    const mw = await FakeMailwizzServer.start({ mode: 'v2', apiKey: FAKE.mwKey });
    const iem = await FakeInterspireServer.start({ username: FAKE.iemUser, token: FAKE.iemToken });
    const hook = await FakeWebhookServer.start({ secret: FAKE.hookSecret });
    const lm = await FakeListmonkServer.start({ username: 'api', token: FAKE.lmToken });
    const mautic = await FakeMauticServer.start({ clientId: 'client', clientSecret: FAKE.mauticSecret });
    cleanups.push(() => Promise.all([mw.close(), iem.close(), hook.close(), lm.close(), mautic.close()]));
    const [sqsProxy, dynamoProxy, mwProxy, iemProxy, hookProxy, lmProxy, mauticProxy] = await Promise.all(
      [sqsServer.endpoint, dynamo.endpoint, mw.url, iem.url, hook.url, lm.url, mautic.url].map((u) =>
        startTcpProxy(u),
      ),
    );
    cleanups.push(() =>
      Promise.all(
        [sqsProxy, dynamoProxy, mwProxy, iemProxy, hookProxy, lmProxy, mauticProxy].map((p) => p!.stop()),
      ),
    );
    const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
    // The pipeline's own clients go through the proxies; the checks below go direct.
    const sqs = new SqsClient({ region: 'us-east-1', endpoint: sqsProxy!.endpoint, credentials });
    const sqsDirect = sqsServer.client();
    const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: dynamo.endpoint, credentials });
    const documents = DynamoDBDocumentClient.from(dynamodb);
    cleanups.push(() => {
      sqs.destroy();
      dynamodb.destroy();
    });
    const table = 'pmta-bounce';
    await createBounceTable(dynamodb, table);
    const records = await createQueuePair(sqs, 'pmta-bounce-records');
    const actions = await createQueuePair(sqs, 'pmta-bounce-actions');

    // The handlers' environment, as the stack (and the sandbox) sets it.
    const badCredentials = has(Fault.providerAuth);
    const setCredentials = (right: boolean) => {
      process.env[CREDENTIAL_ENV.mwKey] = right ? FAKE.mwKey : 'wrong-mw-key-0123456789';
      process.env[CREDENTIAL_ENV.iemToken] = right ? FAKE.iemToken : 'wrong-iem-token';
      process.env[CREDENTIAL_ENV.hookSecret] = right
        ? FAKE.hookSecret
        : `whsec_${Buffer.from('not-the-webhook-secret-at-all!!').toString('base64')}`;
      process.env[CREDENTIAL_ENV.lmToken] = right ? FAKE.lmToken : 'wrong-listmonk-token';
      process.env[CREDENTIAL_ENV.mauticSecret] = right ? FAKE.mauticSecret : 'wrong-mautic-secret';
    };
    setCredentials(!badCredentials);
    const provider = { maxRetries: 1, timeoutMs: 1000 };
    Object.assign(process.env, {
      [ENV.CONFIG_JSON]: JSON.stringify({
        providers: [
          {
            id: 'mw',
            type: 'mailwizz',
            url: withPort(mw.url, mwProxy!),
            apiKey: `\${${CREDENTIAL_ENV.mwKey}}`,
            ...provider,
          },
          {
            id: 'iem',
            type: 'interspire',
            url: withPort(iem.url, iemProxy!),
            username: FAKE.iemUser,
            token: `\${${CREDENTIAL_ENV.iemToken}}`,
            ...provider,
          },
          {
            id: 'hook',
            type: 'webhook',
            url: withPort(hook.url, hookProxy!),
            secret: `\${${CREDENTIAL_ENV.hookSecret}}`,
            ...provider,
          },
          {
            id: 'lm',
            type: 'listmonk',
            url: withPort(lm.url, lmProxy!),
            username: 'api',
            token: `\${${CREDENTIAL_ENV.lmToken}}`,
            ...provider,
          },
          {
            id: 'mautic',
            type: 'mautic',
            url: withPort(mautic.url, mauticProxy!),
            clientId: 'client',
            clientSecret: `\${${CREDENTIAL_ENV.mauticSecret}}`,
            ...provider,
          },
        ],
        policy: { soft: { threshold: 2, windowDays: 30 } },
      }),
      [ENV.TABLE_NAME]: table,
      [ENV.ACTIONS_QUEUE_URL]: actions.url,
      [ENV.SQS_ENDPOINT]: sqsProxy!.endpoint,
      [ENV.DYNAMODB_ENDPOINT]: dynamoProxy!.endpoint,
      [TUNING_ENV.RETRY_BASE_SECONDS]: '1',
      [TUNING_ENV.RETRY_MAX_SECONDS]: '2',
      [TUNING_ENV.CLAIM_SECONDS]: '6',
      [TUNING_ENV.MAX_RECEIVE_COUNT]: String(MAX_RECEIVES),
      AWS_REGION: 'us-east-1',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_LOG_LEVEL: process.env.FAULT_MATRIX_LOG_LEVEL ?? 'SILENT',
    });
    delete process.env[ENV.SECRET_ARN];
    let handlers = await options.loadHandlers();

    // What the ingest function acknowledged: the lines of every message it finished.
    const ingested = new Set<string>();
    const onAcked = (event: SQSEvent, failed: Set<string>) => {
      for (const r of event.Records) {
        if (failed.has(r.messageId)) continue;
        const decoded = decodeEnvelope(
          r.body,
          r.messageAttributes?.[CONTENT_ENCODING_ATTRIBUTE]?.stringValue,
          envelopeBodyCodec,
        );
        if (!decoded.ok) continue;
        for (const line of envelopeRecords(decoded.envelope))
          ingested.add(line.rawBase64 ? Buffer.from(line.rawBase64, 'base64').toString('utf8') : line.text);
      }
    };
    const crashOn = new Set(has(Fault.handlerCrash) ? [2, 4, 7] : []);
    const duplicateOn = (n: number) =>
      n % 2 !== 0
        ? undefined
        : has(Fault.duplicateConcurrent)
          ? ('concurrent' as const)
          : has(Fault.duplicateReorder)
            ? ('sequential' as const)
            : undefined;
    const ingestHandler = wrapHandler(() => handlers.ingest, { crashOn, duplicateOn, random, onAcked });
    // Every act invocation must end within its timeout, whatever the providers ask it to wait.
    const actTimeoutMs = has(Fault.providerSlow) ? SLOW_ACT_TIMEOUT_MS : 60_000;
    const overruns: string[] = [];
    // middy cuts a handler off at the context's deadline (answering every message failed, its
    // work carrying on unseen, as in a frozen Lambda): a handler that ends with no time left was
    // cut off, whatever it answered.
    const timedAct =
      (handler: SqsHandler): SqsHandler =>
      async (event, context) => {
        try {
          return await handler(event, context);
        } finally {
          const left = context.getRemainingTimeInMillis();
          if (left < 50) overruns.push(`act used its whole ${actTimeoutMs} ms timeout (${left} ms left)`);
        }
      };
    const actHandler = wrapHandler(() => timedAct(handlers.act), { crashOn, duplicateOn, random });
    const sourceErrors: string[] = [];
    const sources: SqsEventSource[] = [
      createSqsEventSource({
        sqs,
        queueUrl: records.url,
        queueArn: records.arn,
        handler: ingestHandler,
        functionName: 'pmta-bounce-ingest',
        concurrency: 2,
        onError: (e) => sourceErrors.push(String(e)),
      }),
      createSqsEventSource({
        sqs,
        queueUrl: actions.url,
        queueArn: actions.arn,
        handler: actHandler,
        functionName: 'pmta-bounce-act',
        timeoutMs: actTimeoutMs,
        concurrency: 3,
        onError: (e) => sourceErrors.push(String(e)),
      }),
    ];
    for (const s of sources) s.start();
    cleanups.push(() => Promise.all(sources.map((s) => s.stop())));

    // Provider faults that heal by themselves (the fakes count them down).
    const fakes = [mw.http, iem.http, hook.http, lm.http, mautic.http];
    if (has(Fault.provider5xx)) for (const f of fakes) f.inject({ status: 503, times: 5 });
    if (has(Fault.providerRefusing)) {
      // Permanent answers (3xx/4xx, not not-found): kept and retried by act, never acknowledged away.
      mw.http.inject({ status: 301, times: 6 });
      iem.http.inject({ status: 302, times: 6 });
      hook.http.inject({ status: 400, times: 6 });
    }
    if (has(Fault.provider429)) for (const f of fakes) f.inject({ status: 429, retryAfter: '1', times: 5 });
    if (has(Fault.providerTimeout)) for (const f of fakes) f.inject({ hang: true, times: 2 });
    if (has(Fault.providerSlow)) for (const f of fakes) f.inject({ status: 429, retryAfter: '8', times: 3 });
    if (has(Fault.providerDead)) await iemProxy!.down(); // until the redrive below

    // The input, in chunks; the layout changes once mid-stream (every chunk with header-change).
    const input = makeInput(
      options.records,
      `s${options.seed}`,
      {
        mw,
        iem,
        hook,
        mwList: mw.addList('News'),
        iemList: iem.addList('News'),
        lm,
        lmList: lm.addList('News'),
        mautic,
        mauticSegment: mautic.addSegment('News'),
      },
      random,
    );
    const chunkSize = Math.ceil(input.length / CHUNKS);
    const written: Array<{ header: string; line: string; record: InputRecord }> = [];
    let shipper = startShipper(spoolDir, records.url, sqsProxy!.endpoint);
    let sinceStart: Array<{ header: string; line: string }> = [];
    let refed = 0;
    const killAt = new Set(
      has(Fault.shipperKill) ? [1 + Math.floor(random() * 3), 4 + Math.floor(random() * 3)] : [],
    );
    let header = '';
    let downSince = 0;
    for (let c = 0; c < CHUNKS; c += 1) {
      const layout = has(Fault.headerChange) ? LAYOUTS[c % 2]! : LAYOUTS[c < CHUNKS / 2 ? 0 : 1]!;
      let text = '';
      if (layout !== header) {
        header = layout;
        text += `${header}\n`;
      }
      for (const record of input.slice(c * chunkSize, (c + 1) * chunkSize)) {
        const line = serialize(record, header);
        written.push({ header, line, record });
        sinceStart.push({ header, line });
        text += `${line}\n`;
      }
      await shipper.write(text);
      if (c === 2) {
        if (has(Fault.sqsDown)) await sqsProxy!.down();
        if (has(Fault.dynamodbDown)) await dynamoProxy!.down();
        downSince = Date.now();
      }
      if (c === 5) {
        // Outages last at least OUTAGE_MS: longer than the visibility timeout, so messages come
        // back (and may reach a DLQ) while it lasts.
        if (!sqsProxy!.isUp() || !dynamoProxy!.isUp())
          await sleep(Math.max(0, downSince + OUTAGE_MS - Date.now()));
        if (!sqsProxy!.isUp()) await sqsProxy!.up();
        if (!dynamoProxy!.isUp()) await dynamoProxy!.up();
        if (badCredentials) {
          // The fix: right credentials, then fresh execution environments (a redeploy).
          setCredentials(true);
          handlers = await options.loadHandlers();
          details.push('credentials fixed, handlers reloaded');
        }
      }
      if (killAt.has(c)) {
        // Kill a shipper that is running (its start takes a second): once it has read something.
        const last = sinceStart.at(-1)?.line;
        await waitFor(
          () => last === undefined || ingested.has(last) || spoolLines(spoolDir).has(last),
          10_000,
        );
        await sleep(Math.floor(random() * 150));
        await shipper.kill();
        // Whatever the killed shipper sent is ingested once SQS and the functions can; wait a
        // little so it is not taken for unread (if it is, it is only written twice: harmless).
        await waitFor(async () => (await depth(sqsDirect, records.url)) === 0, 4000);
        const kept = spoolLines(spoolDir);
        const unread = sinceStart.filter((w) => !kept.has(w.line) && !ingested.has(w.line));
        refed += unread.length;
        const writtenToIt = sinceStart.length;
        shipper = startShipper(spoolDir, records.url, sqsProxy!.endpoint);
        sinceStart = [...unread];
        header = '';
        // PowerMTA writes them again (reconciliation): each under its own header line.
        let again = '';
        for (const u of unread) {
          if (u.header !== header) {
            header = u.header;
            again += `${header}\n`;
          }
          again += `${u.line}\n`;
        }
        if (again) await shipper.write(again);
        details.push(
          `shipper killed after chunk ${c}: ${writtenToIt} written to it, ${kept.size} lines in the spool, ${unread.length} unread written again`,
        );
      }
      await sleep(150);
    }
    // Heal what is still broken (except the dead provider) and let the shipper drain.
    if (!sqsProxy!.isUp()) await sqsProxy!.up();
    if (!dynamoProxy!.isUp()) await dynamoProxy!.up();
    if (!(await shipper.finish(15_000))) details.push('shipper did not exit by itself');
    for (let round = 0; round < 3 && spoolBytes(spoolDir) > 0; round += 1) {
      // Anything left in the spool is sent by the next start.
      shipper = startShipper(spoolDir, records.url, sqsProxy!.endpoint);
      await shipper.finish(15_000);
    }
    if (spoolBytes(spoolDir) > 0) details.push(`spool not empty: ${spoolBytes(spoolDir)} bytes`);

    const quiet = async () =>
      (await depth(sqsDirect, records.url)) === 0 && (await depth(sqsDirect, actions.url)) === 0;
    if (!(await waitFor(quiet, 60_000))) details.push('queues not quiet after 60 s');
    // Parked messages: count them, heal the provider that never recovered, redrive (the
    // documented path), until nothing is parked (bounded).
    let parked = 0;
    for (let round = 0; round < 4; round += 1) {
      const inDlq = (await depth(sqsDirect, records.dlq)) + (await depth(sqsDirect, actions.dlq));
      if (inDlq === 0) break;
      parked += inDlq;
      if (!iemProxy!.isUp()) await iemProxy!.up();
      await sleep(2000); // a claim left by a cut connection expires (CLAIM_SECONDS 6)
      for (const pair of [records, actions])
        await redriveQueue({ sqs: sqsDirect, dlqUrl: pair.dlq, targetUrl: pair.url, maxMs: 10_000 });
      if (!(await waitFor(quiet, 60_000))) details.push(`queues not quiet after redrive ${round + 1}`);
    }
    if (parked > 0) details.push(`${parked} parked in a DLQ, redriven`);
    if (!iemProxy!.isUp()) await iemProxy!.up();
    for (const s of sources) await s.stop();

    const accounted = await account(scenario, written, ingested, {
      documents,
      table,
      mw,
      iem,
      hook,
      lm,
      mautic,
    });
    if (overruns.length > 0) details.push(`${overruns.length} act invocations overran their timeout`);
    return {
      ...accounted,
      problems: [...accounted.problems, ...overruns],
      parked,
      refed,
      seconds: Math.round((Date.now() - started) / 100) / 10,
      details,
    };
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
  }
}

// ---------------------------------------------------------------- accounting

interface AccountDeps {
  documents: DynamoDBDocumentClient;
  table: string;
  mw: FakeMailwizzServer;
  iem: FakeInterspireServer;
  hook: FakeWebhookServer;
  lm: FakeListmonkServer;
  mautic: FakeMauticServer;
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

const ACTION_RANK = ['unsubscribe', 'already-suppressed', 'soft-bounce', 'ignore'];

async function account(
  scenario: Scenario,
  written: ReadonlyArray<{ header: string; line: string; record: InputRecord }>,
  ingested: ReadonlySet<string>,
  deps: AccountDeps,
): Promise<Omit<ScenarioResult, 'parked' | 'refed' | 'seconds' | 'details'>> {
  const items = await scanAll(deps.documents, deps.table);
  const decisions = new Map<string, string[]>();
  const rejects = new Set<string>();
  const state = new Map<string, Set<string>>();
  for (const item of items) {
    const pk = String(item.pk);
    if (pk.startsWith('audit#') && item.type === 'decision' && typeof item.recordKey === 'string') {
      decisions.set(item.recordKey, [...(decisions.get(item.recordKey) ?? []), String(item.action)]);
    } else if (pk.startsWith('rejects#')) {
      rejects.add(String(item.raw));
    } else if (pk.startsWith('sub#') && item.sk === 'state') {
      const done = item.done instanceof Set ? [...item.done].map(String) : [];
      state.set(pk.slice(4), new Set(done));
    }
  }
  const outcomes = { done: 0, already: 0, soft: 0, ignored: 0, rejected: 0 };
  const bestOf = new Map<string, string | undefined>(); // line → best decision action
  const problems: string[] = [];
  let lost = 0;
  for (const w of written) {
    const parsed = parseLine(w.header, w.line);
    if (!parsed.ok && parsed.kind === 'rejected') {
      if (rejects.has(w.line)) outcomes.rejected += 1;
      else {
        lost += 1;
        problems.push(`lost (no reject kept): ${w.line}`);
      }
      continue;
    }
    if (!parsed.ok) {
      // Ignored by the reader (e.g. a delivery): no state to show, but its message was finished.
      if (ingested.has(w.line)) outcomes.ignored += 1;
      else {
        lost += 1;
        problems.push(`lost (never ingested): ${w.line}`);
      }
      continue;
    }
    const actions = decisions.get(parsed.event.key);
    if (!actions) {
      lost += 1;
      problems.push(`lost (no decision): ${w.line}`);
      continue;
    }
    const best = ACTION_RANK.find((a) => actions.includes(a));
    bestOf.set(w.line, best);
    if (best === 'unsubscribe') outcomes.done += 1;
    else if (best === 'already-suppressed') outcomes.already += 1;
    else if (best === 'soft-bounce') outcomes.soft += 1;
    else outcomes.ignored += 1;
  }

  // Provider effects: at most one per subscription, and exactly where the records ask for one.
  const expected = new Set(written.map((w) => w.record.unsubscribes).filter((s): s is string => !!s));
  // `known` counts soft-bounce pairs of which neither reached the threshold. It found that a pair
  // decided out of order (the earlier record's message retried) never did; fixed by counting the
  // densest window containing each bounce (core/soft-bounce-window.ts). Such a pair is now also
  // a state disagreement, so the column should stay 0.
  const softReordered = new Set<string>();
  const softDecisions = new Map<string, Array<string | undefined>>();
  for (const w of written) {
    const r = w.record;
    if (r.kind !== 'soft-first' && r.kind !== 'soft-second') continue;
    const address = r.fields.rcpt ?? '';
    softDecisions.set(address, [...(softDecisions.get(address) ?? []), bestOf.get(w.line)]);
  }
  for (const [address, bests] of softDecisions)
    if (bests.length === 2 && bests.every((b) => b === 'soft-bounce')) softReordered.add(address);
  let duplicated = 0;
  let mismatched = 0;
  const check = (what: string, subject: string, effects: number) => {
    const want = expected.has(subject) ? 1 : 0;
    if (effects > 1) {
      duplicated += effects - 1;
      problems.push(`duplicated: ${what} ${subject} ${effects} effects`);
    } else if (effects !== want) {
      mismatched += 1;
      problems.push(`state: ${what} ${subject} has ${effects} effects, expected ${want}`);
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
  // The suppression state agrees: every subject to unsubscribe is suppressed and done everywhere.
  for (const subject of expected) {
    const done = state.get(subject);
    const want =
      subject.startsWith('ref:') || subject.startsWith('mailwizz:')
        ? ['mw']
        : ['mw', 'iem', 'hook', 'lm', 'mautic'];
    if (!done || want.some((p) => !done.has(p))) {
      mismatched += 1;
      problems.push(`state: ${subject} done=[${[...(done ?? [])].join(',')}], expected [${want.join(',')}]`);
    }
  }
  return {
    name: scenario.name,
    recordsIn: written.length,
    outcomes,
    lost,
    duplicated,
    mismatched,
    known: softReordered.size,
    problems,
  };
}

// ---------------------------------------------------------------- the table

function formatTable(results: readonly ScenarioResult[]): string {
  const head = [
    'fault',
    'in',
    'done',
    'already',
    'soft',
    'ignored',
    'rejected',
    'parked',
    're-fed',
    'lost',
    'dup',
    'state',
    'known',
    's',
  ];
  const rows = results.map((r) => [
    r.name,
    r.recordsIn,
    r.outcomes.done,
    r.outcomes.already,
    r.outcomes.soft,
    r.outcomes.ignored,
    r.outcomes.rejected,
    r.parked,
    r.refed,
    r.lost,
    r.duplicated,
    r.mismatched === 0 ? 'ok' : `${r.mismatched} off`,
    r.known,
    r.seconds,
  ]);
  const cells = [head, ...rows].map((row) => row.map(String));
  const widths = head.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  return [
    line(cells[0]!),
    `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`,
    ...cells.slice(1).map(line),
  ].join('\n');
}

export type { Scenario, ScenarioResult };
export { Fault, formatTable, isKnownBug, runScenario, scenarios };
