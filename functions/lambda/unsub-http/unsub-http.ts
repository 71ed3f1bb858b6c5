/**
 * The unsub-http function's logic: a Lambda Function URL request → the same core decision as
 * `pmta-bounce serve` (docs/unsubscribe.md, "One-click over HTTPS") → the state item in DynamoDB →
 * the action on the actions queue (act calls the providers, exactly once) → 200. No provider call
 * here, so the answer comes within a second. A store or queue failure answers 503: the mail client
 * tries again, and a replay is harmless (the state says pending, the action is sent again).
 */
import type { LambdaFunctionURLEvent, APIGatewayProxyStructuredResultV2 as UrlResult } from 'aws-lambda';
import type { ActionSender, Log, MetricSink, RateCounter, SuppressionStore } from '#core/ports.ts';
import { CONTENT_SECURITY_POLICY, oneClickPage } from '#core/unsubscribe/one-click-page.ts';
import { checkOneClickRate, type OneClickRateLimits } from '#core/unsubscribe/one-click-rate-limit.ts';
import {
  decideOneClick,
  MAX_BODY,
  type OneClickSettings,
  oneClickHtml,
} from '#core/unsubscribe/one-click-request.ts';
import { type OneClickRecordSettings, recordOneClicks } from '#core/unsubscribe/record-one-click.ts';
import { DIMENSIONS, METRICS } from '../metric-names.ts';

interface OneClickHttpDeps {
  settings: OneClickSettings & OneClickRecordSettings;
  limits: OneClickRateLimits;
  store: SuppressionStore;
  rateCounter: RateCounter;
  actions: ActionSender;
  metrics: MetricSink;
  log: Log;
  now: () => number;
}

const HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-robots-tag': 'noindex, nofollow',
};

function reply(method: string, status: number, html: string, extra: Record<string, string> = {}): UrlResult {
  return { statusCode: status, headers: { ...HEADERS, ...extra }, body: method === 'HEAD' ? '' : html };
}

function bodyOf(event: LambdaFunctionURLEvent): string {
  const raw = (event.body ?? '').slice(0, 2 * MAX_BODY);
  return event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('latin1') : raw;
}

async function handleOneClickHttp(event: LambdaFunctionURLEvent, deps: OneClickHttpDeps): Promise<UrlResult> {
  const method = event.requestContext.http.method.toUpperCase();
  const path = event.rawPath;
  if (path === '/healthz')
    return { statusCode: 200, headers: { 'content-type': 'text/plain' }, body: 'ok\n' };
  const limit = await checkOneClickRate(
    deps.rateCounter,
    deps.limits,
    event.requestContext.http.sourceIp,
    deps.now(),
  );
  if (!limit.ok) {
    deps.metrics.count(METRICS.oneClickRequests, { [DIMENSIONS.verdict]: 'rate-limited' });
    return reply(method, 429, oneClickPage('busy', ''), { 'retry-after': String(limit.retryAfterSeconds) });
  }
  const decision = decideOneClick(
    {
      method,
      path,
      contentType: event.headers?.['content-type'],
      body: method === 'POST' ? bodyOf(event) : '',
    },
    deps.settings,
  );
  if (decision.kind === 'page') {
    deps.metrics.count(METRICS.oneClickRequests, { [DIMENSIONS.verdict]: String(decision.status) });
    return reply(
      method,
      decision.status,
      oneClickHtml(decision),
      decision.status === 405 ? { allow: 'GET, HEAD, POST' } : {},
    );
  }
  try {
    const [record] = await recordOneClicks([decision.target], deps.settings, deps.store, deps.now());
    if (record?.action) await deps.actions.send([record.action]);
    deps.metrics.count(METRICS.oneClickRequests, { [DIMENSIONS.verdict]: 'accepted' });
    const subject = record?.subject.includes('@') ? '(sealed address)' : record?.subject;
    deps.log.info('one-click unsubscribe', { subject, state: record?.state });
  } catch (error) {
    deps.log.error('one-click unsubscribe not recorded', { error: (error as Error).message });
    return reply(method, 503, oneClickPage('busy', ''), { 'retry-after': '30' });
  } finally {
    deps.metrics.flush();
  }
  return reply(method, 200, oneClickHtml(decision));
}

export type { OneClickHttpDeps };
export { handleOneClickHttp };
