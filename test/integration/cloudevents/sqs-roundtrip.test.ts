import {
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SpanKind, trace } from '@opentelemetry/api';
import { CloudEvent } from 'cloudevents';
import { describe, expect, it } from 'vitest';
import { CLOUDEVENTS_JSON_CONTENT_TYPE, sqsBinding } from '../../../adapters/cloudevents/index.js';
import {
  createQueue,
  deleteQueue,
  named,
  only,
  parentId,
  spanId,
  useSqsTestbed,
} from '../sqs/sqs-test-kit.js';
import {
  expectSameEvent,
  fieldsOf,
  MALFORMED_TRACEPARENTS,
  MODES,
  orderEvent,
  TRACEPARENT,
  TRACESTATE,
  traceparentOf,
  type Order,
} from './event-kit.js';

const { tracing, raw, sqs } = useSqsTestbed();
const tracer = trace.getTracer('test');

/**
 * The next `count` messages of a queue, with all their message attributes: long polls (the
 * server answers as soon as a message is there) until that many have arrived.
 */
async function receive(client: SQSClient, queueUrl: string, count = 1): Promise<Message[]> {
  const messages: Message[] = [];
  while (messages.length < count) {
    const { Messages = [] } = await client.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MessageAttributeNames: ['All'],
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 5,
      }),
    );
    messages.push(...Messages);
  }
  return messages;
}

describe('CloudEvents over SQS, with sqsBinding', () => {
  for (const mode of MODES) {
    it(`${mode} mode: a plain SendMessage and ReceiveMessage bring back the event the producer sent, extension included`, async () => {
      const queue = await createQueue(raw, `ce-${mode}`);
      try {
        // 10 message attributes in binary mode: SQS's limit, exactly.
        const sent = orderEvent({
          traceparent: TRACEPARENT,
          tracestate: TRACESTATE,
          tenant: 'acme',
        });
        const message = sqsBinding[mode](sent);
        await raw.send(new SendMessageCommand({ QueueUrl: queue.url, ...message }));
        const [received] = (await receive(raw, queue.url)) as [Message];

        expectSameEvent(sqsBinding, received, sent);
        // What travelled on the wire: the mode's own layout, and no transport context.
        const attributes = received.MessageAttributes ?? {};
        expect(attributes['traceparent']).toBeUndefined();
        if (mode === 'binary') {
          expect(Object.keys(attributes)).toHaveLength(10);
          expect(attributes['content-type']?.StringValue).toBe('application/json');
          expect(attributes['ce-traceparent']?.StringValue).toBe(TRACEPARENT);
          expect(attributes['ce-tracestate']?.StringValue).toBe(TRACESTATE);
          expect(JSON.parse(received.Body ?? '')).toEqual(sent.data);
        } else {
          expect(Object.keys(attributes)).toEqual(['content-type']);
          expect(attributes['content-type']?.StringValue).toBe(CLOUDEVENTS_JSON_CONTENT_TYPE);
          expect(JSON.parse(received.Body ?? '')).toMatchObject({
            id: sent.id,
            traceparent: TRACEPARENT,
            tracestate: TRACESTATE,
          });
        }
        // Nothing made a span: the event already had its creation context.
        expect(tracing.spans()).toEqual([]);
      } finally {
        await deleteQueue(raw, queue.url);
      }
    });

    it(`${mode} mode through instrumentSqsClient: the hop's traceparent attribute rides beside the event's creation context`, async () => {
      const queue = await createQueue(raw, `ce-traced-${mode}`);
      try {
        const event = orderEvent();
        await tracer.startActiveSpan('POST /orders', async (request) => {
          try {
            // The binding gives the event its creation context; the client adds the hop's.
            const message = sqsBinding[mode](event);
            await sqs.send(new SendMessageCommand({ QueueUrl: queue.url, ...message }));
          } finally {
            request.end();
          }
        });
        const [received] = (await receive(raw, queue.url)) as [Message];
        const spans = await tracing.waitForSpans((all) =>
          all.some(named(`send ${queue.name}`, SpanKind.PRODUCER)),
        );
        const request = only(spans, named('POST /orders'));
        const creation = only(
          spans,
          named('CloudEvents Create com.example.order.created', SpanKind.PRODUCER),
        );
        const send = only(spans, named(`send ${queue.name}`, SpanKind.PRODUCER));

        const sent = new CloudEvent<Order>({
          ...fieldsOf(event),
          traceparent: traceparentOf(creation),
        });
        const decoded = expectSameEvent(sqsBinding, received, sent);
        expect(decoded.tracestate).toBeUndefined();

        // Per event, the extension: the creation span. Per hop, the attribute: the send span.
        expect(parentId(creation)).toBe(spanId(request));
        expect(parentId(send)).toBe(spanId(request));
        const attributes = received.MessageAttributes ?? {};
        expect(attributes['traceparent']?.StringValue).toBe(traceparentOf(send));
        expect(sqsBinding.traceHeader(received, 'traceparent')).not.toBe(traceparentOf(send));
        if (mode === 'binary') {
          expect(attributes['ce-traceparent']?.StringValue).toBe(traceparentOf(creation));
        }
      } finally {
        await deleteQueue(raw, queue.url);
      }
    });
  }

  it('a binary-mode message with a malformed ce-traceparent still decodes; traceHeader reads no context from it', async () => {
    const queue = await createQueue(raw, 'ce-hostile');
    try {
      const event = orderEvent();
      for (const value of MALFORMED_TRACEPARENTS) {
        // The producer's own attributes: the event has no extension, so nothing overrides them.
        const message = sqsBinding.binary(event, {
          traceContext: false,
          attributes: {
            'ce-traceparent': { DataType: 'String', StringValue: value },
            'ce-tracestate': { DataType: 'String', StringValue: TRACESTATE },
          },
        });
        expect(message.MessageAttributes['ce-id']?.StringValue).toBe(event.id);
        await raw.send(new SendMessageCommand({ QueueUrl: queue.url, ...message }));
      }
      const received = await receive(raw, queue.url, MALFORMED_TRACEPARENTS.length);
      expect(received).toHaveLength(MALFORMED_TRACEPARENTS.length);

      const seen = new Set<string>();
      for (const message of received) {
        const value = message.MessageAttributes?.['ce-traceparent']?.StringValue ?? '';
        seen.add(value);
        expect(sqsBinding.isEvent(message)).toBe(true);
        expect(sqsBinding.traceHeader(message, 'traceparent'), value).toBeUndefined();
        // A tracestate is meaningless without a valid traceparent (W3C).
        expect(sqsBinding.traceHeader(message, 'tracestate'), value).toBeUndefined();
        const decoded = sqsBinding.toEvent<Order>(message);
        expect(fieldsOf(decoded), value).toEqual({
          ...fieldsOf(event),
          traceparent: value,
          tracestate: TRACESTATE,
        });
      }
      expect([...seen].sort()).toEqual([...MALFORMED_TRACEPARENTS].sort());
      expect(tracing.spans()).toEqual([]);
    } finally {
      await deleteQueue(raw, queue.url);
    }
  });
});
