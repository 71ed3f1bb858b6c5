/**
 * The configuration file's shape (docs/interfaces.md §3), validated strictly.
 * Pure: the caller passes the parsed document, the environment and the provider schemas.
 */
import { z } from 'zod';
import { BUILTIN_RULES } from './classify/builtin-rules.ts';
import { KNOWN_CATEGORIES, SENDER_SIDE_CATEGORIES } from './classify/categories.ts';
import { type RuleSpec, ruleSchema } from './classify/rule-schema.ts';
import { ConfigError } from './errors.ts';
import {
  literalSigningSecrets,
  type UnsubscribeSecurityConfig,
  unsubscribeSecurityShape,
} from './unsubscribe/unsubscribe-config.ts';

const recipientCategory = z
  .string()
  .refine((c) => (KNOWN_CATEGORIES as readonly string[]).includes(c), {
    message: `unknown bounce category (known: ${KNOWN_CATEGORIES.join(', ')})`,
  })
  .refine((c) => !(SENDER_SIDE_CATEGORIES as readonly string[]).includes(c), {
    message: 'sender-side and operations categories never unsubscribe a recipient',
  });

/** Keys every provider entry has; each provider extends this with its own keys and `.strict()`. */
const providerBaseSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, 'letters, digits, - and _ only'),
  type: z.string(),
  /** Route by `orig`: exact address or `*` glob, case-insensitive. Absent = every sender. */
  senders: z.array(z.string().min(1)).min(1).optional(),
  concurrency: z.number().int().min(1).max(64).default(4),
  ratePerSecond: z.number().positive().max(10_000).optional(),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
  maxRetries: z.number().int().min(0).max(10).default(4),
  /** Allow an `http://` URL to a host other than loopback (credentials then travel in clear). */
  allowInsecureHttp: z.boolean().optional(),
});
type ProviderBaseConfig = z.infer<typeof providerBaseSchema>;

const policySchema = z
  .object({
    hardCategories: z
      .array(recipientCategory)
      .default(['bad-mailbox', 'bad-domain', 'inactive-mailbox', 'routing-errors']),
    soft: z
      .object({
        categories: z
          .array(recipientCategory)
          .default(['quota-issues', 'message-expired', 'no-answer-from-host', 'bad-connection', 'other']),
        threshold: z.number().int().min(1).max(1000).default(5),
        windowDays: z.number().positive().max(3650).default(30),
        /** Soft bounces of one address on one UTC day count once (one outage, one count). */
        onePerUtcDay: z.boolean().default(true),
        /** A later delivery (`d` record, when PowerMTA logs them) clears the address's count. */
        resetOnDelivery: z.boolean().default(true),
        /** An expiry whose last remote reply was sender-side (our IP throttled): ignored or counted. */
        senderSideExpiry: z.enum(['ignore', 'count']).default('ignore'),
      })
      .strict()
      .prefault({}),
    complaints: z.enum(['unsubscribe', 'ignore']).default('unsubscribe'),
    unsubscribeScope: z.enum(['list', 'everywhere']).default('list'),
  })
  .strict()
  .superRefine((p, ctx) => {
    for (const c of p.hardCategories) {
      if (p.soft.categories.includes(c)) {
        ctx.addIssue({
          code: 'custom',
          path: ['soft', 'categories'],
          message: `${c} is also a hard category`,
        });
      }
    }
  });
type PolicyConfig = z.infer<typeof policySchema>;

const emailAddress = z.string().regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, 'not an email address');
const domainName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'not a domain name');

const accountingSchema = z
  .object({
    /**
     * The column layout to assume before any `type,...` header line is seen (PowerMTA's
     * `record-fields`, as a list or a comma-separated string). Default: the PowerMTA 5.x `*` layout.
     */
    fields: z
      .union([z.array(z.string().min(1)).min(2), z.string().min(3)])
      .transform((f) => (typeof f === 'string' ? f.split(',').map((s) => s.trim()) : f))
      .refine((f) => f[0] === 'type', { message: 'the first field must be "type"' })
      .optional(),
  })
  .strict();

const BUILTIN_RULE_IDS = new Set([...BUILTIN_RULES.overrides, ...BUILTIN_RULES.general].map((r) => r.id));

/** The operator's rules (docs/classification.md "Adding a rule"): same schema as the built-ins. */
const classificationSchema = z
  .object({ rules: z.array(ruleSchema).max(500).default([]) })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.rules.forEach((rule, i) => {
      const clash = BUILTIN_RULE_IDS.has(rule.id)
        ? 'is a built-in rule id'
        : seen.has(rule.id)
          ? 'is used twice'
          : '';
      if (clash) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `${rule.id} ${clash}` });
      seen.add(rule.id);
      if (rule.provider !== undefined && !(rule.provider in BUILTIN_RULES.providers)) {
        const known = Object.keys(BUILTIN_RULES.providers).join(', ');
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'provider'],
          message: `unknown provider ${JSON.stringify(rule.provider)} (known: ${known})`,
        });
      }
    });
  });

/** Deliverability guardrails (docs/guardrails.md); rates in percent as operators quote them. */
const guardrailsSchema = z
  .object({
    complaintRatePercent: z
      .object({
        warn: z.number().positive().max(100).default(0.1),
        critical: z.number().positive().max(100).default(0.3),
        /** Days of a sending domain with fewer deliveries are not judged: 2 of 1 is no rate. */
        minDeliveries: z.number().int().min(1).default(100),
      })
      .strict()
      .prefault({})
      .refine((r) => r.warn <= r.critical, { message: 'warn must not be above critical' }),
    blockSpike: z
      .object({
        percent: z.number().positive().max(100).default(10),
        /** Hours with fewer attempts at one provider through one VirtualMTA are not judged. */
        minAttempts: z.number().int().min(1).default(50),
      })
      .strict()
      .prefault({}),
    /** Extra recipient domains per mailbox-provider group, e.g. `{ seznam: [seznam.cz, email.cz] }`. */
    mailboxProviders: z
      .record(z.string().regex(/^[a-z0-9][a-z0-9-]{0,30}$/), z.array(domainName).min(1))
      .default({}),
    /** Sending domains that get their own cloud metric dimension; the rest count as `other`. */
    sendingDomains: z.array(domainName).max(50).default([]),
    /** Addresses subscribed to the AWS guardrails topic (default: `alarms.email`). */
    email: z
      .union([emailAddress, z.array(emailAddress).min(1)])
      .transform((e) => (typeof e === 'string' ? [e] : e))
      .optional(),
    /** A Standard Webhooks receiver told of every trip (local mode), e.g. to pause a campaign. */
    webhook: z
      .object({
        url: z
          .url({ protocol: /^https?$/ })
          .refine((u) => u.startsWith('https:') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])[:/]/.test(u), {
            message: 'https:// only (http:// only for a loopback address)',
          }),
        secret: z.string().regex(/^(whsec_)?[A-Za-z0-9+/]{22,}={0,2}$/, 'expected whsec_ followed by base64'),
      })
      .strict()
      .optional(),
    /** VirtualMTAs that get their own cloud metric dimension (block spikes); the rest: `other`. */
    vmtas: z.array(z.string().min(1).max(120)).max(50).default([]),
  })
  .strict();
type GuardrailsConfig = z.infer<typeof guardrailsSchema>;

const configShape = {
  guardrails: guardrailsSchema.prefault({}),
  classification: classificationSchema.prefault({}),
  policy: policySchema.prefault({}),
  unsubscribe: z
    .object({ domains: z.array(domainName).default([]), ...unsubscribeSecurityShape })
    .strict()
    .prefault({}),
  notify: z
    .object({
      to: emailAddress,
      from: emailAddress,
      /** Complaints and failures are sent as digests at most this often. */
      digestMinutes: z.number().int().min(1).max(1440).default(15),
    })
    .strict()
    .optional(),
  accounting: accountingSchema.prefault({}),
  /** CloudWatch alarms of the AWS deployment (read by the CDK app; ignored in local mode). */
  alarms: z
    .object({
      /** Address(es) subscribed by email to the alarm topic. */
      email: z
        .union([emailAddress, z.array(emailAddress).min(1)])
        .transform((e) => (typeof e === 'string' ? [e] : e))
        .optional(),
      /** Alarm when no accounting record arrived for this many hours (a silent shipper). */
      noRecordsHours: z.number().int().min(1).max(24).default(6),
      /** Alarm when the oldest message of the records or actions queue is older than this. */
      oldestMessageMinutes: z.number().int().min(1).max(1440).default(30),
      /** Alarm when a provider's failed calls exceed this percentage over 15 minutes. */
      providerErrorPercent: z.number().min(1).max(100).default(10),
    })
    .strict()
    .optional(),
  /** The AWS deployment (read by the CDK app; ignored in local mode). */
  aws: z
    .object({
      /** At most this many ingest instances at once (a spool flush cannot take the whole account). */
      ingestMaxConcurrency: z.number().int().min(2).max(1000).default(10),
      /** Use this existing table (e.g. the one kept by an earlier `cdk destroy`) instead of a new one. */
      tableName: z
        .string()
        .regex(/^[A-Za-z0-9_.-]{3,255}$/, 'not a DynamoDB table name')
        .optional(),
      /** Also create an IAM user for the shipper (long-lived access keys); default: roles only. */
      shipperUser: z.boolean().default(false),
    })
    .strict()
    .optional(),
};

const topSchema = z.object({ providers: z.array(z.unknown()).default([]), ...configShape }).strict();

interface Config<P extends ProviderBaseConfig = ProviderBaseConfig & Record<string, unknown>> {
  providers: P[];
  policy: PolicyConfig;
  classification: { rules: RuleSpec[] };
  unsubscribe: { domains: string[] } & UnsubscribeSecurityConfig;
  notify?: { to: string; from: string; digestMinutes: number } | undefined;
  accounting: { fields?: string[] | undefined };
  alarms?:
    | {
        email?: string[] | undefined;
        noRecordsHours: number;
        oldestMessageMinutes: number;
        providerErrorPercent: number;
      }
    | undefined;
  aws?: { ingestMaxConcurrency: number; tableName?: string | undefined; shipperUser: boolean } | undefined;
  guardrails: GuardrailsConfig;
  /** Keys whose values were written literally although they hold a credential (see `check`). */
  literalSecrets: string[];
}

/** Provider schemas by type, plus the names of their credential keys. */
type ProviderSchemas = Record<string, { schema: z.ZodType; secretKeys: readonly string[] }>;

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out;
}

function issueToError(issue: z.core.$ZodIssue, prefix: ReadonlyArray<PropertyKey> = []): ConfigError {
  const path = formatPath([...prefix, ...issue.path]);
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown key(s): ${issue.keys.join(', ')}`;
  return new ConfigError(path || '(root)', message);
}

const VAR_PATTERN = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${NAME}` in every string of the document; a missing variable names its key path. */
function expandVariables(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  path: PropertyKey[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(VAR_PATTERN, (_m, name: string) => {
      const v = env[name];
      if (v === undefined) throw new ConfigError(formatPath(path), `environment variable ${name} is not set`);
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => expandVariables(v, env, [...path, i]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandVariables(v, env, [...path, k]);
    return out;
  }
  return value;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * A provider's `url` carries its credentials (headers, signed bodies): https only, except to this
 * machine (tests, a local relay) or with `allowInsecureHttp: true`.
 */
function checkProviderUrl(provider: Config['providers'][number], path: PropertyKey[]): void {
  if (typeof provider.url !== 'string' || provider.allowInsecureHttp) return;
  let url: URL;
  try {
    url = new URL(provider.url);
  } catch {
    return; // the provider's own schema reports an invalid URL
  }
  if (url.protocol !== 'http:') return;
  if (LOOPBACK_HOSTS.has(url.hostname) || url.hostname.startsWith('127.')) return;
  throw new ConfigError(
    formatPath([...path, 'url']),
    'must be https:// (http:// only to a loopback address, or with allowInsecureHttp: true)',
  );
}

/**
 * Validates a parsed configuration document. Throws ConfigError naming the key path of the first
 * problem; nothing is processed with an invalid configuration.
 */
function parseConfig(
  document: unknown,
  env: Readonly<Record<string, string | undefined>>,
  providerSchemas: ProviderSchemas,
): Config {
  const doc = document ?? {};
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError('(root)', 'the configuration must be a mapping of keys');
  }
  // Expand ${VAR} before validating so values read from the environment are checked too.
  const { providers: rawProviders, ...others } = doc as Record<string, unknown>;
  const expandedOthers = expandVariables(others, env) as Record<string, unknown>;
  const top = topSchema.safeParse(
    rawProviders === undefined ? expandedOthers : { ...expandedOthers, providers: rawProviders },
  );
  if (!top.success) throw issueToError(top.error.issues[0]!);

  const literalSecrets: string[] = literalSigningSecrets(others.unsubscribe);
  const providers: Config['providers'] = [];
  const seen = new Set<string>();
  top.data.providers.forEach((entry, i) => {
    const path = ['providers', i];
    if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new ConfigError(formatPath(path), 'each provider must be a mapping');
    }
    const type = (entry as { type?: unknown }).type;
    const def = typeof type === 'string' ? providerSchemas[type] : undefined;
    if (!def) {
      const known = Object.keys(providerSchemas).join(', ') || 'none';
      throw new ConfigError(
        formatPath([...path, 'type']),
        `unknown provider type ${JSON.stringify(type)} (known: ${known})`,
      );
    }
    for (const key of def.secretKeys) {
      const raw = (entry as Record<string, unknown>)[key];
      if (typeof raw === 'string' && raw.length > 0 && !VAR_PATTERN.test(raw)) {
        literalSecrets.push(formatPath([...path, key]));
      }
      VAR_PATTERN.lastIndex = 0;
    }
    const expanded = expandVariables(entry, env, path);
    const parsed = def.schema.safeParse(expanded);
    if (!parsed.success) throw issueToError(parsed.error.issues[0]!, path);
    const provider = parsed.data as Config['providers'][number];
    checkProviderUrl(provider, path);
    if (seen.has(provider.id))
      throw new ConfigError(formatPath([...path, 'id']), `duplicate provider id "${provider.id}"`);
    seen.add(provider.id);
    providers.push(provider);
  });

  const rest = top.data;
  return {
    providers,
    policy: rest.policy,
    classification: rest.classification,
    unsubscribe: rest.unsubscribe,
    notify: rest.notify,
    accounting: rest.accounting,
    alarms: rest.alarms,
    aws: rest.aws,
    guardrails: rest.guardrails,
    literalSecrets,
  };
}

export type { Config, GuardrailsConfig, PolicyConfig, ProviderBaseConfig, ProviderSchemas };
export {
  expandVariables,
  formatPath,
  KNOWN_CATEGORIES,
  parseConfig,
  providerBaseSchema,
  SENDER_SIDE_CATEGORIES,
};
