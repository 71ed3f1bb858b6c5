/**
 * Times on the command line (`--since`, `--until`): an ISO date or date-time (`2026-12-01`,
 * `2026-12-01T10:00Z`; without a zone, UTC) or ms since the epoch. A bad value is a usage error
 * naming the option.
 */

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_NO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

class WhenError extends Error {
  readonly code = 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE';
}

function parseWhen(value: string, option: string): number {
  const text = value.trim();
  if (/^\d{1,15}$/.test(text)) return Number(text);
  const iso = DATE_ONLY.test(text)
    ? `${text}T00:00:00Z`
    : DATE_TIME_NO_ZONE.test(text)
      ? `${text.replace(' ', 'T')}Z`
      : text;
  const ms = Date.parse(iso);
  if (text.length > 40 || Number.isNaN(ms))
    throw new WhenError(`${option}: not a date or time: ${JSON.stringify(value.slice(0, 40))}`);
  return ms;
}

export { parseWhen };
