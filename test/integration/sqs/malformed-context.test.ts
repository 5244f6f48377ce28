import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
} from '@aws-sdk/client-sqs';
import { SpanKind, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { traceSqsHandler } from '../../../adapters/sqs/index.js';
import { createQueue, deleteQueue, messagesLeft, named, useSqsTestbed } from './sqs-test-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();

const VALID = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** What other producers really put in a traceparent attribute, none of it a valid context. */
const MALFORMED: Record<string, Record<string, MessageAttributeValue>> = {
  garbage: { traceparent: text('not a traceparent') },
  uppercase: { traceparent: text(VALID.toUpperCase()) },
  'all-zero trace id': {
    traceparent: text('00-00000000000000000000000000000000-b7ad6b7169203331-01'),
  },
  'version ff': { traceparent: text(`ff${VALID.slice(2)}`) },
  'bad hex': { traceparent: text('00-0af7651916cd43dd8448eb211c80319z-b7ad6b7169203331-01') },
  'too long': { traceparent: text(`${VALID}-${'x'.repeat(9000)}`) },
  number: { traceparent: { DataType: 'Number', StringValue: '12345' } },
  'binary garbage': {
    traceparent: { DataType: 'Binary', BinaryValue: Uint8Array.of(0xff, 0xfe, 0, 1) },
  },
  'hostile baggage only': { traceparent: text('x'), baggage: text('=;,'.repeat(4000)) },
};

describe('malformed trace context (fauxqs)', () => {
  it('every message with a malformed traceparent is processed, on a new trace, and deleted', async () => {
    const queue = await createQueue(raw, 'malformed');
    try {
      const names = Object.keys(MALFORMED);
      await raw.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: names.slice(0, 9).map((name, i) => ({
            Id: `m${i}`,
            MessageBody: name,
            MessageAttributes: MALFORMED[name],
          })),
        }),
      );
      // one more, with the valid traceparent as bytes: bytes are read, not rejected
      await raw.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: [
            {
              Id: 'bytes',
              MessageBody: 'valid as bytes',
              MessageAttributes: {
                traceparent: { DataType: 'Binary', BinaryValue: new TextEncoder().encode(VALID) },
              },
            },
          ],
        }),
      );

      const handled: string[] = [];
      const handle = traceSqsHandler(async (message: Message) => {
        handled.push(message.Body ?? '');
        expect(trace.getActiveSpan()?.spanContext().spanId).toBeDefined();
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: message.ReceiptHandle }),
        );
      });
      while (handled.length < names.length + 1) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: queue.url,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 5,
          }),
        );
        if (Messages.length === 0) throw new Error(`only ${handled.length} messages arrived`);
        for (const message of Messages) await handle(message);
      }
      expect(handled.sort()).toEqual([...names, 'valid as bytes'].sort());

      const processes = tracing.spans().filter(named(`process ${queue.name}`, SpanKind.CONSUMER));
      expect(processes).toHaveLength(names.length + 1);
      for (const process of processes) {
        if (process.parentSpanContext !== undefined) {
          // only the valid context, sent as bytes, gives a parent
          expect(process.parentSpanContext.spanId).toBe('b7ad6b7169203331');
          expect(process.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
        } else {
          expect(process.links).toEqual([]);
        }
      }
      expect(processes.filter((span) => span.parentSpanContext !== undefined)).toHaveLength(1);
      expect(await messagesLeft(raw, queue.url)).toBe(0);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});
