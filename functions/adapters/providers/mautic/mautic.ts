/**
 * Mautic provider (docs/providers.md "Mautic"): finds the contacts with the address and adds Do Not
 * Contact on the email channel, reason `bounced` for a bounce and `unsubscribed` for a complaint or
 * unsubscribe, with a comment naming the category and rule. A DNC is contact-wide (every segment,
 * every campaign), so a contact that already has one is left alone and reported `already`.
 * By provider ids (contact id, segment id) it removes the contact from that one segment.
 */
import { z } from 'zod';
import { providerBaseSchema } from '#core/config-schema.ts';
import { ProviderError } from '#core/errors.ts';
import type { SubscriberRef } from '#core/mail-event.ts';
import {
  type ActionContext,
  type CredentialCheck,
  ListOutcome,
  type ListProvider,
  type ListResult,
  type ProviderResult,
} from '#core/ports.ts';
import type { CallTally } from '../provider-call-policy.ts';
import type { ProviderDefinition, ProviderDeps } from '../provider-definition.ts';
import { apiBasics, oneListResult } from '../provider-result.ts';
import { createMauticApi, DncReason, type MauticApi, type MauticAuth } from './mautic-api.ts';

const mauticConfigSchema = providerBaseSchema
  .extend({
    type: z.literal('mautic'),
    /** The instance root, e.g. https://mautic.example.com */
    url: z.url({ protocol: /^https?$/ }),
    /** OAuth2 client credentials (Settings → API Credentials, created by an admin; Mautic 4+). */
    clientId: z.string().min(1).optional(),
    clientSecret: z.string().min(1).optional(),
    /** BasicAuth of a Mautic user (needs "Enable HTTP basic auth" in the API settings). */
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const oauth = c.clientId !== undefined || c.clientSecret !== undefined;
    const basic = c.username !== undefined || c.password !== undefined;
    const message = (m: string, path: string) => ctx.addIssue({ code: 'custom', path: [path], message: m });
    if (oauth && basic)
      message('use either clientId/clientSecret or username/password, not both', 'clientId');
    else if (oauth && (!c.clientId || !c.clientSecret))
      message('clientId and clientSecret go together', 'clientSecret');
    else if (basic && (!c.username || !c.password)) message('username and password go together', 'password');
    else if (!oauth && !basic)
      message('credentials missing: clientId + clientSecret, or username + password', 'clientId');
  });
type MauticConfig = z.infer<typeof mauticConfigSchema>;

function authOf(config: MauticConfig): MauticAuth {
  return config.clientId && config.clientSecret
    ? { type: 'oauth2', clientId: config.clientId, clientSecret: config.clientSecret }
    : { type: 'basic', username: config.username ?? '', password: config.password ?? '' };
}

/** The DNC comment: what happened and why, e.g. "pmta-bounce bounce: category=bad-mailbox ...". */
function dncComment(context: ActionContext): string {
  return `pmta-bounce ${context.kind}: ${context.reason}`.slice(0, 250);
}

class MauticListProvider implements ListProvider {
  readonly id: string;
  readonly type = 'mautic';
  readonly #api: MauticApi;
  readonly #authType: MauticAuth['type'];

  constructor(config: MauticConfig, deps: ProviderDeps) {
    this.id = config.id;
    const auth = authOf(config);
    this.#authType = auth.type;
    this.#api = createMauticApi({
      ...apiBasics(config, deps),
      auth,
    });
  }

  async unsubscribeEverywhere(email: string, context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const contacts = await this.#api.findContacts(tally, email);
    const reason = context.kind === 'bounce' ? DncReason.bounced : DncReason.unsubscribed;
    const lists: ListResult[] = [];
    for (const contact of contacts) {
      const listId = `contact-${contact.id}`;
      if (contact.emailDnc !== undefined) {
        lists.push({ listId, listName: 'email DNC', outcome: ListOutcome.already });
        continue;
      }
      const added = await this.#api.addEmailDnc(tally, contact.id, reason, dncComment(context));
      lists.push({ listId, listName: 'email DNC', outcome: added ? ListOutcome.done : ListOutcome.notFound });
    }
    return { provider: this.id, lists, calls: tally.calls };
  }

  async unsubscribeFromList(ref: SubscriberRef, _context: ActionContext): Promise<ProviderResult> {
    const tally: CallTally = { calls: 0 };
    const result = (outcome: ListOutcome): ProviderResult =>
      oneListResult(this.id, ref.listId, outcome, tally);
    const segments = await this.#api.segmentsOf(tally, ref.subscriberId);
    if (!segments) return result(ListOutcome.notFound);
    // Mautic lists only the segments the contact is still in: not there means already out.
    if (!segments.has(ref.listId)) return result(ListOutcome.already);
    const removed = await this.#api.removeFromSegment(tally, ref.listId, ref.subscriberId);
    return result(removed ? ListOutcome.done : ListOutcome.notFound);
  }

  async checkCredentials(): Promise<CredentialCheck> {
    try {
      const count = await this.#api.countContacts({ calls: 0 });
      const how = this.#authType === 'oauth2' ? 'OAuth2 client' : 'BasicAuth user';
      return { ok: true, detail: `${how} accepted; ${count} contact${count === 1 ? '' : 's'}` };
    } catch (error) {
      if (error instanceof ProviderError) return { ok: false, detail: error.message };
      throw error;
    }
  }
}

const mauticProvider: ProviderDefinition<MauticConfig> = {
  type: 'mautic',
  configSchema: mauticConfigSchema,
  secretKeys: ['clientSecret', 'password'],
  create: (config, deps) => new MauticListProvider(config, deps),
};

export type { MauticConfig };
export { MauticListProvider, mauticConfigSchema, mauticProvider };
