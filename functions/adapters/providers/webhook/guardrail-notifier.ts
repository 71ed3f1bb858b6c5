/**
 * Guardrail notices as Standard Webhooks events (docs/guardrails.md): one signed POST per tripped
 * guardrail, so a list manager or a script can pause a campaign. The webhook-id names the trip
 * (kind, where, when, level): a receiver can deduplicate, and the state remembers what was sent.
 */
import type { GuardrailTrip } from '#core/guardrails/guardrails.ts';
import { signWebhook } from './webhook-signature.ts';

interface GuardrailWebhook {
  url: string;
  secret: string;
}

const EVENT_TYPE = 'guardrail.tripped';
const TIMEOUT_MS = 10_000;

/** A stable id per trip and level: the same trip found by a later run is the same notice. */
function tripId(trip: GuardrailTrip): string {
  const where =
    trip.kind === 'complaint-rate'
      ? `${trip.sendingDomain}:${trip.day}`
      : `${trip.mailboxProvider}:${trip.vmta}:${trip.hour}`;
  return `guardrail:${trip.kind}:${where}:${trip.level}`.slice(0, 250);
}

/** Posts one notice; resolves with an error text instead of throwing (a notice never fails a run). */
async function postGuardrailNotice(
  hook: GuardrailWebhook,
  trip: GuardrailTrip,
  now: number,
  fetchImpl: typeof fetch = fetch,
): Promise<string | undefined> {
  const id = tripId(trip);
  const timestamp = Math.floor(now / 1000);
  const body = JSON.stringify({ type: EVENT_TYPE, timestamp: new Date(now).toISOString(), data: trip });
  try {
    const response = await fetchImpl(hook.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signWebhook({ secret: hook.secret, id, timestamp, body }),
      },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return response.ok ? undefined : `HTTP ${response.status}`;
  } catch (error) {
    // The URL may carry a token: name the failure, never the URL.
    return error instanceof Error ? error.name : 'request failed';
  }
}

export type { GuardrailWebhook };
export { postGuardrailNotice, tripId };
