/**
 * `pmta-bounce sandbox --fake-providers [--seed FILE] [--report-fakes-every S]`: each configured
 * provider gets its fake (MailWizz, Interspire, webhook, listmonk, Mautic) on 127.0.0.1, its `url` pointed at it and
 * credentials the fake accepts (an unset `${NAME}` is filled with a generated value, so the
 * example configuration runs with no environment at all). `--seed` subscribes the addresses of
 * an accounting file (or plain address list) to two lists at every fake, with the MailWizz
 * list/subscriber uids logged in the file, so the by-uid unsubscribe of an anonymised complaint
 * finds its subscription. On stop (and every S seconds) it prints what is now unsubscribed.
 *
 * The fakes live in sandbox/fakes/ (the tests use them from there): the sandbox is a tool run
 * from a clone (`npm ci`, tsx loads TypeScript); it is never part of the deployed bundle.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createAccountingReader } from '#core/accounting/accounting-reader.ts';
import { ConfigError } from '#core/errors.ts';
import { FakeInterspireServer } from '#sandbox/fakes/fake-interspire-server.ts';
import { FakeListmonkServer } from '#sandbox/fakes/fake-listmonk-server.ts';
import { FakeMailwizzServer } from '#sandbox/fakes/fake-mailwizz-server.ts';
import { FakeMauticServer } from '#sandbox/fakes/fake-mautic-server.ts';
import { FakeWebhookServer } from '#sandbox/fakes/fake-webhook-server.ts';
import type { PreparedExtension, SandboxExtension } from './sandbox-extension.ts';

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

interface Seed {
  /** Lower-cased recipient addresses, in file order. */
  addresses: string[];
  /** MailWizz subscriptions by uid (from `header_*` fields), with the address when logged. */
  mailwizzRefs: Array<{ listId: string; subscriberId: string; email: string | undefined }>;
}

/** Recipients and MailWizz ids of an accounting file or plain address list. */
async function readSeed(file: string): Promise<Seed> {
  const addresses = new Set<string>();
  const refs = new Map<string, Seed['mailwizzRefs'][number]>();
  const reader = createAccountingReader({}, (outcome) => {
    if (!outcome.ok) {
      if (outcome.kind === 'ignored' && outcome.recipient) addresses.add(outcome.recipient.toLowerCase());
      return;
    }
    const { recipient, refs: eventRefs } = outcome.event;
    if (recipient) addresses.add(recipient.toLowerCase());
    for (const r of eventRefs) {
      if (r.providerType !== 'mailwizz') continue;
      const key = `${r.listId}/${r.subscriberId}`;
      if (!refs.has(key)) refs.set(key, { listId: r.listId, subscriberId: r.subscriberId, email: recipient });
    }
  });
  try {
    for await (const chunk of createReadStream(file)) reader.write(chunk as Buffer);
  } catch (error) {
    throw new ConfigError(
      '--seed',
      `cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  reader.end();
  return { addresses: [...addresses], mailwizzRefs: [...refs.values()] };
}

/** A credential the provider schemas accept: webhook secrets have their own format. */
function generatedCredential(field: string): string {
  return field === 'secret' ? `whsec_${randomBytes(32).toString('base64')}` : randomBytes(20).toString('hex');
}

/** Fills unset `${NAME}`s of the provider's string fields in `env`, then expands the fields. */
function credentials(
  provider: Record<string, unknown>,
  env: Record<string, string | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [field, value] of Object.entries(provider)) {
    if (typeof value !== 'string') continue;
    for (const [, name] of value.matchAll(VAR)) {
      if (env[name!] === undefined || env[name!] === '') {
        env[name!] = generatedCredential(field);
        // The handlers expand placeholders from the process environment at cold start.
        if (env !== process.env) process.env[name!] = env[name!];
      }
    }
    out[field] = value.replace(VAR, (_m, name: string) => env[name] ?? '');
  }
  return out;
}

interface RunningFake {
  id: string;
  type: string;
  url: string;
  total(): number;
  /** address → subscriptions (list/subscriber ids) now unsubscribed. */
  unsubscribed(): Map<string, string[]>;
  close(): Promise<void>;
}

function collect<T>(rows: T[], done: (r: T) => boolean, email: (r: T) => string, id: (r: T) => string) {
  const out = new Map<string, string[]>();
  for (const r of rows) if (done(r)) out.set(email(r), [...(out.get(email(r)) ?? []), id(r)]);
  return out;
}

async function startMailwizz(id: string, creds: Record<string, string>, seed: Seed): Promise<RunningFake> {
  const fake = await FakeMailwizzServer.start(
    creds.privateKey
      ? { mode: 'v1', apiKey: creds.apiKey ?? '', privateKey: creds.privateKey }
      : { mode: 'v2', apiKey: creds.apiKey ?? '' },
  );
  const lists = [...new Set(seed.mailwizzRefs.map((r) => r.listId))].slice(0, 2);
  for (const uid of lists) fake.addList(`List ${uid}`, uid);
  while (fake.lists.size < 2) fake.addList();
  const byUid = new Map(seed.mailwizzRefs.filter((r) => r.email).map((r) => [`${r.listId}/${r.email}`, r]));
  for (const email of seed.addresses) {
    for (const list of fake.lists.keys()) {
      fake.addSubscriber(list, email, 'confirmed', byUid.get(`${list}/${email}`)?.subscriberId);
    }
  }
  // An anonymised complaint's subscription: its address is unknown, its uids are not.
  for (const r of seed.mailwizzRefs) {
    if (fake.subscriber(r.subscriberId)) continue;
    if (!fake.lists.has(r.listId)) fake.addList(`List ${r.listId}`, r.listId);
    fake.addSubscriber(r.listId, `anonymised-${r.subscriberId}@example.invalid`, 'confirmed', r.subscriberId);
  }
  return {
    id,
    type: 'mailwizz',
    url: fake.url,
    total: () => fake.subscribers.length,
    unsubscribed: () =>
      collect(
        fake.subscribers,
        (s) => s.status === 'unsubscribed',
        (s) => s.email.toLowerCase(),
        (s) => `${s.listUid}/${s.uid}`,
      ),
    close: () => fake.close(),
  };
}

async function startInterspire(id: string, creds: Record<string, string>, seed: Seed): Promise<RunningFake> {
  const fake = await FakeInterspireServer.start({ username: creds.username ?? '', token: creds.token ?? '' });
  const lists = [fake.addList('List 1'), fake.addList('List 2')];
  for (const email of seed.addresses) for (const list of lists) fake.addSubscriber(list, email);
  return {
    id,
    type: 'interspire',
    url: fake.url,
    total: () => fake.subscribers.length,
    unsubscribed: () =>
      collect(
        fake.subscribers,
        (s) => s.unsubscribed > 0 || (fake.banned.get(s.listid)?.has(s.emailaddress.toLowerCase()) ?? false),
        (s) => s.emailaddress.toLowerCase(),
        (s) => `${s.listid}/${s.subscriberid}`,
      ),
    close: () => fake.close(),
  };
}

async function startWebhook(id: string, creds: Record<string, string>, seed: Seed): Promise<RunningFake> {
  const fake = await FakeWebhookServer.start({ secret: creds.secret ?? '' });
  for (const email of seed.addresses) for (const list of ['list1', 'list2']) fake.subscribe(email, list);
  return {
    id,
    type: 'webhook',
    url: fake.url,
    total: () => fake.subscriptions.length,
    unsubscribed: () =>
      collect(
        fake.subscriptions,
        (s) => !s.active,
        (s) => s.email.toLowerCase(),
        (s) => `${s.listId}/${s.subscriberId}`,
      ),
    close: () => fake.close(),
  };
}

async function startListmonk(id: string, creds: Record<string, string>, seed: Seed): Promise<RunningFake> {
  const fake = await FakeListmonkServer.start({ username: creds.username ?? '', token: creds.token ?? '' });
  const lists = [fake.addList('List 1'), fake.addList('List 2')];
  for (const email of seed.addresses) for (const list of lists) fake.subscribe(email, list);
  const subscriptions = () => fake.subscribers.flatMap((s) => s.lists.map((l) => ({ s, l })));
  return {
    id,
    type: 'listmonk',
    url: fake.url,
    total: () => subscriptions().length,
    unsubscribed: () =>
      collect(
        subscriptions(),
        ({ s, l }) => !fake.isActive(s.id, l.listId),
        ({ s }) => s.email,
        ({ s, l }) => `${l.listId}/${s.id}`,
      ),
    close: () => fake.close(),
  };
}

async function startMautic(id: string, creds: Record<string, string>, seed: Seed): Promise<RunningFake> {
  const fake = await FakeMauticServer.start({
    ...(creds.clientId ? { clientId: creds.clientId, clientSecret: creds.clientSecret ?? '' } : {}),
    ...(creds.username ? { username: creds.username, password: creds.password ?? '' } : {}),
  });
  const segments = [fake.addSegment('Segment 1'), fake.addSegment('Segment 2')];
  for (const email of seed.addresses) for (const segment of segments) fake.addContact(email, segment);
  const memberships = () => fake.contacts.flatMap((c) => segments.map((segment) => ({ c, segment })));
  return {
    id,
    type: 'mautic',
    url: fake.url,
    total: () => memberships().length,
    unsubscribed: () =>
      collect(
        memberships(),
        ({ c, segment }) => c.dnc !== undefined || !c.segments.has(segment),
        ({ c }) => c.email.toLowerCase(),
        ({ c, segment }) => `${segment}/${c.id}`,
      ),
    close: () => fake.close(),
  };
}

const STARTERS: Record<string, typeof startMailwizz> = {
  mailwizz: startMailwizz,
  interspire: startInterspire,
  webhook: startWebhook,
  listmonk: startListmonk,
  mautic: startMautic,
};

/** One header line per fake, then one line per unsubscribed address (never a credential). */
function summary(fakes: readonly RunningFake[]): string[] {
  const lines: string[] = [];
  for (const f of fakes) {
    const done = f.unsubscribed();
    const n = [...done.values()].reduce((sum, ids) => sum + ids.length, 0);
    lines.push(`fake ${f.id} (${f.type}): ${n} of ${f.total()} subscriptions unsubscribed`);
    for (const [email, ids] of [...done].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`  fake ${f.id} unsubscribed: ${email} [${ids.join(', ')}]`);
    }
  }
  return lines;
}

async function prepareFakes(
  values: Readonly<Record<string, string | boolean | undefined>>,
  input: Parameters<NonNullable<SandboxExtension['prepare']>>[1],
): Promise<PreparedExtension | undefined> {
  if (values['fake-providers'] !== true) {
    if (values.seed !== undefined || values['report-fakes-every'] !== undefined)
      throw new ConfigError('--seed', '--seed and --report-fakes-every need --fake-providers');
    return undefined;
  }
  const every = values['report-fakes-every'];
  const everySeconds = every === undefined ? 0 : Number(every);
  if (!Number.isInteger(everySeconds) || everySeconds < 0)
    throw new ConfigError('--report-fakes-every', 'not a whole number of seconds');
  const seed: Seed =
    typeof values.seed === 'string' ? await readSeed(values.seed) : { addresses: [], mailwizzRefs: [] };
  const document = structuredClone(input.document() ?? {}) as Record<string, unknown>;
  const providers = Array.isArray(document.providers) ? (document.providers as unknown[]) : [];
  const fakes: RunningFake[] = [];
  const closeAll = async (): Promise<void> => {
    for (const f of fakes.splice(0)) await f.close();
  };
  try {
    for (const p of providers) {
      if (!p || typeof p !== 'object') continue;
      const provider = p as Record<string, unknown>;
      const type = String(provider.type ?? '');
      const start = STARTERS[type];
      if (!start) {
        input.log(`fake providers: no fake for provider type ${JSON.stringify(type)}; left as configured`);
        continue;
      }
      const fake = await start(String(provider.id ?? type), credentials(provider, input.env), seed);
      fakes.push(fake);
      provider.url = fake.url;
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  const lists = (f: RunningFake) => (seed.addresses.length > 0 ? `, ${f.total()} subscriptions seeded` : '');
  for (const f of fakes)
    input.print(
      `fake ${f.type}:${' '.repeat(Math.max(1, 11 - f.type.length))}${f.url} (provider ${f.id}${lists(f)})`,
    );
  const report = () => {
    for (const line of summary(fakes)) input.print(line);
  };
  const timer = everySeconds > 0 ? setInterval(report, everySeconds * 1000) : undefined;
  timer?.unref();
  return {
    document,
    async stop() {
      if (timer) clearInterval(timer);
      if (fakes.length === 0) return;
      report();
      await closeAll();
    },
  };
}

const fakeProvidersExtension: SandboxExtension = {
  flags: {
    'fake-providers': { type: 'boolean' },
    seed: { type: 'string' },
    'report-fakes-every': { type: 'string' },
  },
  help: [
    '  --fake-providers     run each configured provider against its fake on 127.0.0.1 (urls and',
    '                       unset ${NAME} credentials filled in); prints what they unsubscribed on stop',
    "  --seed FILE          subscribe FILE's addresses (accounting CSV or address list) to two lists",
    '                       at every fake, with the MailWizz uids logged in it',
    '  --report-fakes-every S  also print that summary every S seconds',
  ].join('\n'),
  create: () => undefined,
  prepare: prepareFakes,
};

export { fakeProvidersExtension, readSeed };
