import { describe, expect, it } from 'vitest';
import { parseShipperArgs, type ShipperArgs } from '../../../../shipper/args.ts';
import type { QueueApi } from '../../../../shipper/sqs/queue-api.ts';
import { MessageSizeLimit } from '../../../../shipper/sqs/queue-limit.ts';
import type { ShipperLog } from '../../../../shipper/stats.ts';

const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/records';

function argsOf(extra: string[]): ShipperArgs {
  const parsed = parseShipperArgs(['--queue-url', URL, ...extra], {});
  if (!parsed.ok) throw new Error('bad test arguments');
  return parsed.args;
}

function recordingLog(): ShipperLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, line: (level, text) => lines.push(`${level} ${text}`), throttled: () => {} };
}

/** A queue that answers GetQueueAttributes with `answer` (or fails with it) for the named queue only. */
function queue(answer: Record<string, string> | Error): QueueApi {
  return {
    async getQueueAttributes(queueUrl, names) {
      if (queueUrl !== URL || names.join() !== 'MaximumMessageSize') throw new Error('unexpected call');
      if (answer instanceof Error) throw answer;
      return answer;
    },
    sendMessageBatch: async () => {
      throw new Error('not used');
    },
    destroy: () => {},
  };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('MessageSizeLimit', () => {
  it.each([
    { case: 'default, the queue allows 1 MiB', argv: [], queue: '1048576', bytes: 1048576 },
    {
      case: 'explicit 200 KiB under the queue limit',
      argv: ['--max-message-bytes', '204800'],
      queue: '1048576',
      bytes: 204800,
    },
    {
      case: 'explicit 512 KiB over the queue limit',
      argv: ['--max-message-bytes', '524288'],
      queue: '262144',
      bytes: 262144,
    },
    { case: 'an answer that is no size', argv: [], queue: 'lots', bytes: 262144 },
  ])('learns the queue limit: $case', async ({ argv, queue: size, bytes }) => {
    const limit = new MessageSizeLimit(argsOf(argv), recordingLog());
    limit.learnFromQueue(queue({ MaximumMessageSize: size }));
    await settle();
    expect(limit.bytes).toBe(bytes);
    expect(limit.encodedTarget()).toBe(Math.floor(bytes / 10) - 512);
  });

  it('keeps the default when the identity may not read the queue attributes, and says so', async () => {
    const log = recordingLog();
    const limit = new MessageSizeLimit(argsOf([]), log);
    const denied = Object.assign(new Error('not authorized to perform sqs:GetQueueAttributes'), {
      name: 'AccessDenied',
    });
    limit.learnFromQueue(queue(denied));
    await settle();
    expect(limit.bytes).toBe(262144);
    expect(log.lines).toEqual([
      "info cannot read the queue's MaximumMessageSize (AccessDenied: not authorized to perform sqs:GetQueueAttributes); using 262144",
    ]);
  });

  it.each([
    { case: 'a lower size lowers it', refused: 100_000, bytes: 100_000, logged: 1 },
    { case: 'a size at or above it changes nothing', refused: 262_144, bytes: 262_144, logged: 0 },
    { case: 'never below 8 KiB', refused: 1000, bytes: 8192, logged: 1 },
  ])('when SQS refuses a message as too large: $case', ({ refused, bytes, logged }) => {
    const log = recordingLog();
    const limit = new MessageSizeLimit(argsOf([]), log);
    limit.refused(refused);
    expect(limit.bytes).toBe(bytes);
    expect(log.lines.length).toBe(logged);
  });
});
