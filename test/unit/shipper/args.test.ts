import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_MESSAGE_BYTES, parseShipperArgs } from '../../../shipper/args.ts';

const URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/records';

describe('parseShipperArgs', () => {
  it('applies defaults and takes the region from the queue URL', () => {
    const r = parseShipperArgs(['--queue-url', URL], {});
    expect(r.ok && r.args).toMatchObject({
      region: 'eu-west-1',
      maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
      maxMessageBytesExplicit: false,
      flushIntervalMs: 1000,
      spoolDir: '/var/spool/pmta-shipper',
    });
  });

  it.each([
    { case: 'missing queue url', argv: [] },
    { case: 'unknown flag', argv: ['--queue-url', URL, '--nope'] },
    { case: 'message size too small', argv: ['--queue-url', URL, '--max-message-bytes', '1000'] },
    { case: 'not a number', argv: ['--queue-url', URL, '--flush-interval-ms', 'soon'] },
  ])('rejects $case', ({ argv }) => {
    const r = parseShipperArgs(argv, {});
    expect(r.ok).toBe(false);
  });

  it('marks an explicit --max-message-bytes', () => {
    const r = parseShipperArgs(
      ['--queue-url', URL, '--max-message-bytes', '1048576', '--region', 'us-east-2'],
      {},
    );
    expect(r.ok && [r.args.maxMessageBytes, r.args.maxMessageBytesExplicit, r.args.region]).toEqual([
      1048576,
      true,
      'us-east-2',
    ]);
  });
});
