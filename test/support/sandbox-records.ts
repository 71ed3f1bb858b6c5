/**
 * Putting shipper envelopes on a sandbox records queue the way pmta-shipper does (its own encoder),
 * and reading queue depths, for the cloud-path integration tests.
 */
import { GetQueueAttributesCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CONTENT_ENCODING_ATTRIBUTE } from '#core/envelope/envelope.ts';
import { bodyCompression } from '../../shipper/message/body-compression.ts';
import { EnvelopeLines } from '../../shipper/message/envelope-lines.ts';
import { MessageEncoder } from '../../shipper/message/message-encoder.ts';
import type { EncodedMessage } from '../../shipper/message/message-types.ts';

/** Encodes records as envelopes of one stream, numbered in order. */
function envelopeEncoder(stream: string): (lines: string[], header: string) => Promise<EncodedMessage> {
  const encoder = new MessageEncoder({ host: 'pmta-test', stream, compression: bodyCompression('gzip', 6) });
  let nextSeq = 0;
  return (lines, header) => {
    const rawBytes = lines.reduce((n, l) => n + l.length + 1, 0);
    const segment = { outstanding: 0 } as unknown as Parameters<MessageEncoder['encode']>[0]['segment'];
    return encoder.encode({ segment, header, lines: EnvelopeLines.fromText(lines), rawBytes }, nextSeq++);
  };
}

/** Sends one encoded envelope, with its ContentEncoding attribute when compressed. */
async function sendEnvelope(sqs: SQSClient, queueUrl: string, message: EncodedMessage): Promise<void> {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: message.body.toString(),
      ...(message.encoding
        ? {
            MessageAttributes: {
              [CONTENT_ENCODING_ATTRIBUTE]: { DataType: 'String', StringValue: message.encoding as string },
            },
          }
        : {}),
    }),
  );
}

/** Messages in the queue, visible or in flight. */
async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(out.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
}

export { envelopeEncoder, queueDepth, sendEnvelope };
