/**
 * The shape of a classification rule, shared by the built-in table (rules.json) and the
 * operator's `classification.rules` (docs/classification.md "Adding a rule"). Pure: it receives
 * parsed data and reports the key path of the first problem.
 */
import { z } from 'zod';
import { FAULTS, KNOWN_CATEGORIES, SENDER_SIDE_CATEGORIES } from './categories.ts';
import { analysePattern } from './pattern-safety.ts';

const STATUS_PATTERN = /^([245]|\*)\.(\d{1,3}|\*)\.(\d{1,3}|\*)$/;
const statusPattern = z.string().regex(STATUS_PATTERN, 'an enhanced status such as 5.1.1, 5.7.* or 4.*.*');
const domainName = z
  .string()
  .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, 'not a domain name')
  .transform((d) => d.toLowerCase());

const replyPattern = z
  .string()
  .min(1)
  .superRefine((source, ctx) => {
    try {
      analysePattern(source);
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `unsafe or invalid pattern: ${(error as Error).message}` });
    }
  });

const ruleSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, ".", "-" and "_"'),
    /** override: before PowerMTA's bounceCat; general: only when bounceCat is missing or `other`. */
    stage: z.enum(['override', 'general']).optional(),
    status: z.union([statusPattern, z.array(statusPattern).min(1).max(64)]).optional(),
    /** Case-insensitive regular expression over the remote reply (dsnDiag) only. */
    reply: replyPattern.optional(),
    /** Recipient domains (and their subdomains) the rule is limited to. */
    domains: z.array(domainName).min(1).optional(),
    /** A mailbox provider named in the built-in table (`providers`). */
    provider: z.string().min(1).optional(),
    category: z.enum(KNOWN_CATEGORIES),
    fault: z.enum(FAULTS),
    note: z.string().max(500).optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    if (rule.status === undefined && rule.reply === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a rule needs a status, a reply pattern or both' });
    }
    const senderSide = (SENDER_SIDE_CATEGORIES as readonly string[]).includes(rule.category);
    if (senderSide && rule.fault.startsWith('recipient-')) {
      ctx.addIssue({
        code: 'custom',
        path: ['fault'],
        message: `${rule.category} is a sender-side category: the fault must be sender-side or ignore`,
      });
    }
  });

type RuleSpec = z.infer<typeof ruleSchema>;

const providerSchema = z
  .object({
    /** Recipient domains the provider hosts. */
    domains: z.array(domainName).default([]),
    /** Words (case-insensitive) that name the provider in the remote MTA or the reply. */
    markers: z.array(z.string().min(3).max(80)).default([]),
  })
  .strict();
type ProviderScope = z.infer<typeof providerSchema>;

const ruleTableSchema = z
  .object({
    providers: z.record(z.string().regex(/^[a-z0-9-]+$/), providerSchema).default({}),
    overrides: z.array(ruleSchema).default([]),
    general: z.array(ruleSchema).default([]),
  })
  .strict();
type RuleTable = z.infer<typeof ruleTableSchema>;

export type { ProviderScope, RuleSpec, RuleTable };
export { ruleSchema, ruleTableSchema };
