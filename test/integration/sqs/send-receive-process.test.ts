import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
} from '@aws-sdk/client-sqs';
import { SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { traceSqsHandler } from '../../../adapters/sqs/index.js';
import {
  createQueue,
  deleteQueue,
  linkedIds,
  messagesLeft,
  named,
  only,
  parentId,
  spanId,
  traceId,
  useSqsTestbed,
} from './sqs-test-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();

describe('SendMessage → ReceiveMessage → handler (fauxqs)', () => {
  it('processes a single message as a child of its send span, with the delete recorded on it', async () => {
    const queue = await createQueue(raw, 'single');
    try {
      const tracer = trace.getTracer('test');
      const input = { QueueUrl: queue.url, MessageBody: 'order-1' };
      const before = structuredClone(input);
      const sent = await tracer.startActiveSpan('POST /orders', async (request: Span) => {
        try {
          return await sqs.send(new SendMessageCommand(input));
        } finally {
          request.end();
        }
      });
      expect(input).toEqual(before);

      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue.url, WaitTimeSeconds: 5 }),
      );
      expect(Messages).toHaveLength(1);
      const message = Messages[0] as Message;

      let activeInHandler: string | undefined;
      const handle = traceSqsHandler(async (received: Message) => {
        activeInHandler = trace.getActiveSpan()?.spanContext().spanId;
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: received.ReceiptHandle }),
        );
        return 'done';
      });
      await expect(handle(message)).resolves.toBe('done');

      const spans = await tracing.waitForSpans((all) => all.some(named(`process ${queue.name}`)));
      const request = only(spans, named('POST /orders'));
      const send = only(spans, named(`send ${queue.name}`, SpanKind.PRODUCER));
      const receive = only(spans, named(`receive ${queue.name}`, SpanKind.CLIENT));
      const process = only(spans, named(`process ${queue.name}`, SpanKind.CONSUMER));

      expect(parentId(send)).toBe(spanId(request));
      expect(send.attributes).toMatchObject({
        'messaging.system.name': 'aws.sqs',
        'messaging.operation.type': 'send',
        'messaging.destination.name': queue.name,
        'aws.sqs.queue.url': queue.url,
        'messaging.message.id': sent.MessageId,
      });
      expect(linkedIds(receive)).toEqual([spanId(send)]);
      expect(receive.attributes['messaging.batch.message_count']).toBe(1);

      expect(traceId(process)).toBe(traceId(request));
      expect(parentId(process)).toBe(spanId(send));
      expect(linkedIds(process)).toContain(spanId(send));
      expect(activeInHandler).toBe(spanId(process));
      expect(process.attributes).toMatchObject({
        'messaging.operation.type': 'process',
        'messaging.message.id': sent.MessageId,
        'tracehop.sqs.approximate_receive_count': 1,
      });
      expect(process.events.map((event) => event.name)).toEqual(['delete']);
      expect(process.events[0]?.attributes?.['messaging.operation.type']).toBe('settle');
      expect(process.status.code).toBe(SpanStatusCode.UNSET);
      // the caller sees the trace attributes it did not ask for
      expect(message.MessageAttributes?.['traceparent']?.StringValue).toContain(spanId(send));
      expect(await messagesLeft(raw, queue.url)).toBe(0);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});
