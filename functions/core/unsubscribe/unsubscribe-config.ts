/**
 * The defences of mailto unsubscribes in the `unsubscribe` section (docs/security.md, docs/
 * unsubscribe.md): signed addresses, which SES verdicts refuse a mail, and the rate limits.
 * Merged into the section's schema by config-schema.ts.
 */
import { z } from 'zod';

/** SES receipt verdict statuses (docs/aws-events.md). */
const VERDICT_STATUSES = ['PASS', 'FAIL', 'GRAY', 'PROCESSING_FAILED', 'DISABLED'] as const;
const VERDICT_NAMES = ['spam', 'virus', 'spf', 'dkim', 'dmarc'] as const;
type VerdictName = (typeof VERDICT_NAMES)[number];

const statuses = (defaults: Array<(typeof VERDICT_STATUSES)[number]>) =>
  z.array(z.enum(VERDICT_STATUSES)).default(defaults);

const signingKey = z
  .object({
    /** Written into every tag: 1 or 2 characters [a-z0-9]. */
    id: z.string().regex(/^[a-z0-9]{1,2}$/, '1 or 2 characters a-z or 0-9'),
    /** The HMAC key; `${NAME}` from the environment (local) or the function's environment. */
    secret: z.string().min(32, 'at least 32 characters'),
  })
  .strict();

const unsubscribeSecurityShape = {
  /** Signed local parts; absent = addresses are not signed (the tag, if any, is not checked). */
  signing: z
    .object({
      /** The first key signs; every key verifies (rotation: add the new key first, drop the old later). */
      keys: z
        .array(signingKey)
        .min(1)
        .refine((keys) => new Set(keys.map((k) => k.id)).size === keys.length, 'key ids must be unique'),
    })
    .strict()
    .optional(),
  /** SES verdict statuses that refuse an unsubscribe mail (the reasoning: docs/security.md). */
  refuseVerdicts: z
    .object({
      spam: statuses(['FAIL']),
      virus: statuses(['FAIL']),
      spf: statuses([]),
      dkim: statuses([]),
      dmarc: statuses([]),
    })
    .strict()
    .prefault({}),
  /** Accepted unsubscribe mails per window; more are deferred (SES retries, the pipe exits 75). */
  rateLimit: z
    .object({
      windowMinutes: z.number().int().min(1).max(1440).default(10),
      /** Per domain of the envelope sender (SES `mail.source`, the pipe's `--from`). */
      perSenderDomain: z.number().int().min(1).max(1_000_000).default(300),
      global: z.number().int().min(1).max(10_000_000).default(2000),
    })
    .strict()
    .prefault({}),
  /** The one-click HTTP endpoint (`pmta-bounce serve`, unsub-http): docs/unsubscribe.md. */
  oneClick: z
    .object({
      /** Public base URL of the endpoint (https://unsub.example.com), for `pmta-bounce headers`. */
      baseUrl: z.url({ protocol: /^https?$/ }).optional(),
      /** Names shown on the page by list id; `*` for any other list. */
      listNames: z.record(z.string().max(64), z.string().min(1).max(120)).default({}),
      /** AWS: deploy unsub-http behind a Lambda Function URL (its URL is a stack output). */
      functionUrl: z.boolean().default(false),
      /** Take the client from the first X-Forwarded-For address (only behind your own proxy). */
      trustForwardedFor: z.boolean().default(false),
      rateLimit: z
        .object({
          windowSeconds: z.number().int().min(1).max(3600).default(60),
          perClient: z.number().int().min(1).max(1_000_000).default(60),
          global: z.number().int().min(1).max(10_000_000).default(60_000),
        })
        .strict()
        .prefault({}),
    })
    .strict()
    .prefault({}),
};

interface UnsubscribeSecurityConfig {
  signing?: { keys: Array<{ id: string; secret: string }> } | undefined;
  refuseVerdicts: Record<VerdictName, string[]>;
  rateLimit: { windowMinutes: number; perSenderDomain: number; global: number };
  oneClick: {
    baseUrl?: string | undefined;
    listNames: Record<string, string>;
    functionUrl: boolean;
    trustForwardedFor: boolean;
    rateLimit: { windowSeconds: number; perClient: number; global: number };
  };
}

/** Key paths of signing secrets written literally instead of as `${NAME}` (reported by `check`). */
function literalSigningSecrets(rawUnsubscribe: unknown): string[] {
  const keys = (rawUnsubscribe as { signing?: { keys?: unknown } } | undefined)?.signing?.keys;
  if (!Array.isArray(keys)) return [];
  return keys.flatMap((k, i) => {
    const secret = (k as { secret?: unknown } | null)?.secret;
    return typeof secret === 'string' && !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(secret)
      ? [`unsubscribe.signing.keys[${i}].secret`]
      : [];
  });
}

export type { UnsubscribeSecurityConfig, VerdictName };
export { literalSigningSecrets, unsubscribeSecurityShape, VERDICT_NAMES, VERDICT_STATUSES };
