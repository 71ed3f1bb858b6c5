/**
 * The notify function's logic (EventBridge schedule, every `notify.digestMinutes`): pending
 * notices → one digest mail → remove what was sent. Bounded: at most `maxDigests` mails of at
 * most `maxPerDigest` notices per run; more waits for the next run.
 *
 * At-least-once: if the run dies between sending and removing, the next digest repeats those
 * notices. Nothing is removed before SES accepted the mail.
 */

import { formatPostmasterDigest } from '#core/notify/postmaster-digest.ts';
import type { Clock, DigestMailer, Log, NoticeStore } from '#core/ports.ts';

interface PostmasterDigestDeps {
  store: NoticeStore;
  mailer: DigestMailer;
  /** config `notify`; undefined = notices are not mailed (and are left to expire). */
  notify: { to: string; from: string } | undefined;
  log: Log;
  now: Clock;
  maxPerDigest?: number | undefined;
  maxDigests?: number | undefined;
}

interface PostmasterDigestSummary {
  digests: number;
  notices: number;
}

async function sendPostmasterDigests(deps: PostmasterDigestDeps): Promise<PostmasterDigestSummary> {
  const summary: PostmasterDigestSummary = { digests: 0, notices: 0 };
  if (!deps.notify) {
    deps.log.info('notify is not configured: no digest sent');
    return summary;
  }
  const perDigest = deps.maxPerDigest ?? 500;
  const maxDigests = deps.maxDigests ?? 4;
  for (let i = 0; i < maxDigests; i += 1) {
    const pending = await deps.store.pending(perDigest + 1);
    if (pending.length === 0) break;
    const batch = pending.slice(0, perDigest);
    const more = pending.length > perDigest;
    const digest = formatPostmasterDigest(batch, { generatedAt: deps.now(), more });
    const messageId = await deps.mailer.send({ ...digest, from: deps.notify.from, to: deps.notify.to });
    await deps.store.remove(batch.map((n) => n.key));
    summary.digests += 1;
    summary.notices += batch.length;
    deps.log.info('postmaster digest sent', { notices: batch.length, messageId, more });
    if (!more) break;
  }
  return summary;
}

export type { PostmasterDigestDeps, PostmasterDigestSummary };
export { sendPostmasterDigests };
