/** Command line of `pmta-shipper` (docs/shipper.md lists every flag). */
import { parseArgs } from 'node:util';
import type { CompressionName } from './message/body-compression.ts';

interface ShipperArgs {
  queueUrl: string;
  region: string;
  endpointUrl: string | undefined;
  spoolDir: string;
  maxMessageBytes: number;
  /** The user chose --max-message-bytes: the queue's own limit may lower it, never raise it. */
  maxMessageBytesExplicit: boolean;
  flushIntervalMs: number;
  spoolMaxBytes: number;
  spoolWarnBytes: number;
  segmentBytes: number;
  statsIntervalMs: number;
  logFile: string | undefined;
  drainTimeoutMs: number;
  gzipLevel: number;
  compression: CompressionName;
  maxInflight: number;
}

type ParseArgsResult =
  | { ok: true; args: ShipperArgs }
  | { ok: false; error: string }
  | { ok: false; help: true };

const DEFAULT_MAX_MESSAGE_BYTES = 256 * 1024;
const MIN_MAX_MESSAGE_BYTES = 128 * 1024;
const MAX_MAX_MESSAGE_BYTES = 1024 * 1024;

const USAGE = `Usage: pmta-shipper --queue-url URL [options]
Reads PowerMTA accounting records on stdin (an acct-file pipe), spools them on disk and ships
them to SQS (envelope v1). Exits 0 after stdin closes or SIGTERM; unsent records stay spooled.

  --queue-url URL            SQS queue URL (required)
  --region R                 AWS region (default: AWS_REGION, else taken from the queue URL)
  --endpoint-url URL         SQS-compatible endpoint (sandbox, tests)
  --spool-dir DIR            spool directory (default /var/spool/pmta-shipper)
  --max-message-bytes N      SQS message size limit, also per SendMessageBatch call (default 262144;
                             lowered to the queue's MaximumMessageSize when that can be read)
  --flush-interval-ms N      send and fsync at least this often (default 1000)
  --spool-max-bytes N        spool size cap; at the cap stdin is no longer read (default 2147483648)
  --spool-warn-bytes N       warn above this spool size (default: a quarter of the cap)
  --segment-bytes N          spool segment size (default 8388608)
  --stats-interval-ms N      one stats line this often (default 60000; 0 = only at exit)
  --log-file FILE            append log lines here instead of stderr
  --drain-timeout-ms N       at EOF/SIGTERM, try this long to send what is left (default 10000)
  --compression br|gzip      body compression: br (brotli, default; needs functions from this
                             release or later) or gzip (envelope v1's original encoding)
  --gzip-level N             with --compression gzip: 1 (fast) .. 9 (small) (default 1)
  --max-inflight N           SendMessageBatch calls in flight (default 2)
  -h, --help                 this text`;

const OPTIONS = {
  'queue-url': { type: 'string' },
  region: { type: 'string' },
  'endpoint-url': { type: 'string' },
  'spool-dir': { type: 'string' },
  'max-message-bytes': { type: 'string' },
  'flush-interval-ms': { type: 'string' },
  'spool-max-bytes': { type: 'string' },
  'spool-warn-bytes': { type: 'string' },
  'segment-bytes': { type: 'string' },
  'stats-interval-ms': { type: 'string' },
  'log-file': { type: 'string' },
  'drain-timeout-ms': { type: 'string' },
  'gzip-level': { type: 'string' },
  compression: { type: 'string' },
  'max-inflight': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionValues = Record<string, string | boolean | undefined>;

function parseShipperArgs(argv: string[], env: NodeJS.ProcessEnv): ParseArgsResult {
  let values: OptionValues;
  try {
    ({ values } = parseArgs({ args: argv, strict: true, options: OPTIONS }));
  } catch (error) {
    return { ok: false, error: (error as Error).message };
  }
  if (values.help) return { ok: false, help: true };
  const queueUrl = values['queue-url'];
  if (typeof queueUrl !== 'string' || !/^https?:\/\//.test(queueUrl)) {
    return {
      ok: false,
      error: '--queue-url URL is required (https://sqs.<region>.amazonaws.com/<account>/<queue>)',
    };
  }
  const errors: string[] = [];
  const args = argsOf(values, queueUrl, regionOf(values, env, queueUrl), errors);
  if (errors.length > 0) return { ok: false, error: errors.join('; ') };
  return { ok: true, args };
}

/** --region, else the SDK's environment variables, else the queue URL's host, else us-east-1. */
function regionOf(values: OptionValues, env: NodeJS.ProcessEnv, queueUrl: string): string {
  return (
    (values.region as string | undefined) ??
    env.AWS_REGION ??
    env.AWS_DEFAULT_REGION ??
    /sqs[.-]([a-z0-9-]+)\.amazonaws\.com/.exec(queueUrl)?.[1] ??
    'us-east-1'
  );
}

/** The options with their defaults and bounds; each bad value adds a message to `errors`. */
function argsOf(values: OptionValues, queueUrl: string, region: string, errors: string[]): ShipperArgs {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = values[name];
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      errors.push(`--${name} must be an integer from ${min} to ${max}, got "${String(raw)}"`);
      return fallback;
    }
    return n;
  };
  const spoolMaxBytes = int('spool-max-bytes', 2 * 1024 ** 3, 1024 * 1024, Number.MAX_SAFE_INTEGER);
  return {
    queueUrl,
    region,
    endpointUrl: values['endpoint-url'] as string | undefined,
    spoolDir: (values['spool-dir'] as string | undefined) ?? '/var/spool/pmta-shipper',
    maxMessageBytes: int(
      'max-message-bytes',
      DEFAULT_MAX_MESSAGE_BYTES,
      MIN_MAX_MESSAGE_BYTES,
      MAX_MAX_MESSAGE_BYTES,
    ),
    maxMessageBytesExplicit: values['max-message-bytes'] !== undefined,
    flushIntervalMs: int('flush-interval-ms', 1000, 10, 60_000),
    spoolMaxBytes,
    spoolWarnBytes: int('spool-warn-bytes', Math.floor(spoolMaxBytes / 4), 0, Number.MAX_SAFE_INTEGER),
    segmentBytes: int('segment-bytes', 8 * 1024 * 1024, 64 * 1024, 1024 ** 3),
    statsIntervalMs: int('stats-interval-ms', 60_000, 0, 86_400_000),
    logFile: values['log-file'] as string | undefined,
    drainTimeoutMs: int('drain-timeout-ms', 10_000, 0, 50_000),
    gzipLevel: int('gzip-level', 1, 1, 9),
    compression: compressionOf(values.compression, errors),
    maxInflight: int('max-inflight', 2, 1, 16),
  };
}

function compressionOf(raw: unknown, errors: string[]): CompressionName {
  if (raw === undefined || raw === 'br') return 'br';
  if (raw === 'gzip') return 'gzip';
  errors.push(`--compression must be br or gzip, got "${String(raw)}"`);
  return 'br';
}

export type { ParseArgsResult, ShipperArgs };
export { DEFAULT_MAX_MESSAGE_BYTES, MAX_MAX_MESSAGE_BYTES, MIN_MAX_MESSAGE_BYTES, parseShipperArgs, USAGE };
