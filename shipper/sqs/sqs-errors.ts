/**
 * The two ways an SQS call fails: SQS (or something in front of it) answered with an error
 * status (`SqsError`, named by the error code), or no answer came (`SqsNetworkError`: refused,
 * reset, timed out, aborted). Neither message ever holds a credential.
 */

class SqsError extends Error {
  /** HTTP status of the answer. */
  readonly status: number;
  /** True when SQS blames the request (4xx, or `;Sender` in the query-compatible error header). */
  readonly senderFault: boolean;
  /** The legacy query-protocol code, e.g. AWS.SimpleQueueService.NonExistentQueue, when sent. */
  readonly queryErrorCode: string | undefined;
  readonly requestId: string | undefined;

  constructor(
    code: string,
    message: string,
    details: { status: number; senderFault: boolean; queryErrorCode?: string; requestId?: string },
  ) {
    super(message);
    this.name = code;
    this.status = details.status;
    this.senderFault = details.senderFault;
    this.queryErrorCode = details.queryErrorCode;
    this.requestId = details.requestId;
  }
}

const SqsNetworkErrorName = {
  ConnectionRefused: 'ConnectionRefusedError',
  ConnectionReset: 'ConnectionResetError',
  ConnectTimeout: 'ConnectTimeoutError',
  RequestTimeout: 'RequestTimeoutError',
  Aborted: 'AbortError',
  Dns: 'DnsError',
  Network: 'NetworkError',
} as const;
type SqsNetworkErrorName = (typeof SqsNetworkErrorName)[keyof typeof SqsNetworkErrorName];

class SqsNetworkError extends Error {
  /** The system error code when there is one (ECONNREFUSED, ECONNRESET, ENOTFOUND, …). */
  readonly code: string | undefined;

  constructor(name: SqsNetworkErrorName, message: string, options?: ErrorOptions & { code?: string }) {
    super(message, options);
    this.name = name;
    this.code = options?.code;
  }
}

function networkErrorFrom(operation: string, error: Error): SqsNetworkError {
  const code = (error as NodeJS.ErrnoException).code;
  const name =
    code === 'ECONNREFUSED'
      ? SqsNetworkErrorName.ConnectionRefused
      : code === 'ECONNRESET' || code === 'EPIPE'
        ? SqsNetworkErrorName.ConnectionReset
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? SqsNetworkErrorName.Dns
          : SqsNetworkErrorName.Network;
  return new SqsNetworkError(name, `${operation}: ${error.message}`, { cause: error, code });
}

type ResponseHeaders = Record<string, string | string[] | undefined>;

function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** "com.amazonaws.sqs#QueueDoesNotExist" or "QueueDoesNotExist:http://…" → "QueueDoesNotExist". */
function bareCode(raw: string): string {
  const afterHash = raw.slice(raw.lastIndexOf('#') + 1);
  const colon = afterHash.indexOf(':');
  return (colon === -1 ? afterHash : afterHash.slice(0, colon)).trim();
}

/**
 * Builds the SqsError for an error answer. The code comes from x-amzn-errortype, then the JSON
 * `__type`/`code`, then the query-compatible header (without its AWS.SimpleQueueService. prefix),
 * else `Http<status>`. `secrets` are cut out of the message: some AWS signature errors echo the
 * canonical request, which holds the session token.
 */
function sqsErrorFrom(status: number, headers: ResponseHeaders, body: Buffer, secrets: string[]): SqsError {
  let doc: Record<string, unknown> = {};
  try {
    const parsed: unknown = body.length > 0 ? JSON.parse(body.toString('utf8')) : {};
    if (typeof parsed === 'object' && parsed !== null) doc = parsed as Record<string, unknown>;
  } catch {
    // Not JSON (a proxy's HTML page, say): the status is all there is.
  }
  const queryError = headerValue(headers, 'x-amzn-query-error');
  const [queryErrorCode, fault] = queryError === undefined ? [] : queryError.split(';');
  const rawCode =
    headerValue(headers, 'x-amzn-errortype') ??
    (typeof doc.__type === 'string' ? doc.__type : undefined) ??
    (typeof doc.code === 'string' ? doc.code : undefined) ??
    queryErrorCode?.replace(/^AWS\.SimpleQueueService\./, '');
  const code = rawCode ? bareCode(rawCode) || `Http${status}` : `Http${status}`;
  const rawMessage = doc.message ?? doc.Message;
  let message = typeof rawMessage === 'string' && rawMessage !== '' ? rawMessage : `HTTP ${status}`;
  for (const secret of secrets) if (secret) message = message.split(secret).join('[redacted]');
  if (message.length > 1000) message = `${message.slice(0, 1000)}…`;
  return new SqsError(code, message, {
    status,
    senderFault: fault === undefined ? status < 500 : fault === 'Sender',
    queryErrorCode,
    requestId: headerValue(headers, 'x-amzn-requestid'),
  });
}

export type { ResponseHeaders };
export { headerValue, networkErrorFrom, SqsError, SqsNetworkError, SqsNetworkErrorName, sqsErrorFrom };
