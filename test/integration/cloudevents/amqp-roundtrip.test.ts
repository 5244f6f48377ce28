import { SpanKind, trace } from '@opentelemetry/api';
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { CloudEvent } from 'cloudevents';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { traceChannel } from '../../../adapters/amqp/index.js';
import { amqpBinding, CLOUDEVENTS_JSON_CONTENT_TYPE } from '../../../adapters/cloudevents/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { collector, deferred, isChildOf, only, openConnection, uniqueName } from '../amqp/kit.js';
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

const tracing = setupTestTracing();
const tracer = trace.getTracer('test');
let connection: ChannelModel;
let channel: Channel;

beforeAll(async () => {
  connection = await openConnection();
  channel = await connection.createChannel();
});
afterAll(async () => {
  await connection.close();
  await tracing.shutdown();
});
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

/** A fresh exclusive queue and a promise of the first message delivered from it. */
async function queueWithConsumer(
  consumer: Pick<Channel, 'consume' | 'ack'> = channel,
): Promise<{ queue: string; delivered: Promise<ConsumeMessage> }> {
  const queue = uniqueName('cloudevents');
  await channel.assertQueue(queue, { exclusive: true });
  const first = deferred<ConsumeMessage>();
  await consumer.consume(queue, (message) => {
    if (message === null) return;
    consumer.ack(message);
    first.resolve(message);
  });
  return { queue, delivered: first.promise };
}

describe('CloudEvents over RabbitMQ (amqplib), with amqpBinding', () => {
  for (const mode of MODES) {
    it(`${mode} mode: a plain publish and consume bring back the event the producer sent, extension included`, async () => {
      const { queue, delivered } = await queueWithConsumer();
      const sent = orderEvent({ traceparent: TRACEPARENT, tracestate: TRACESTATE, tenant: 'acme' });
      const message = amqpBinding[mode](sent);
      channel.publish('', queue, message.content, message.properties);
      const received = await delivered;

      expectSameEvent(amqpBinding, received, sent);
      // What travelled on the wire: the mode's own layout, and no transport context.
      const headers = received.properties.headers ?? {};
      expect(headers['traceparent']).toBeUndefined();
      if (mode === 'binary') {
        expect(received.properties.contentType).toBe('application/json');
        expect(headers['cloudEvents:traceparent']).toBe(TRACEPARENT);
        expect(headers['cloudEvents:tracestate']).toBe(TRACESTATE);
        expect(JSON.parse(received.content.toString('utf8'))).toEqual(sent.data);
      } else {
        expect(received.properties.contentType).toBe(CLOUDEVENTS_JSON_CONTENT_TYPE);
        expect(Object.keys(headers).filter((key) => key.startsWith('cloudEvents:'))).toEqual([]);
        expect(JSON.parse(received.content.toString('utf8'))).toMatchObject({
          id: sent.id,
          traceparent: TRACEPARENT,
          tracestate: TRACESTATE,
        });
      }
      // Nothing made a span: the event already had its creation context.
      expect(tracing.spans()).toEqual([]);
    });

    it(`${mode} mode through traceChannel: the hop's traceparent header rides beside the event's creation context`, async () => {
      const producer = traceChannel(channel);
      const consumer = traceChannel(await connection.createChannel());
      try {
        const { queue, delivered } = await queueWithConsumer(consumer);
        const event = orderEvent({ tenant: 'acme' });
        tracer.startActiveSpan('POST /orders', (request) => {
          // The binding gives the event its creation context; the channel adds the hop's.
          const message = amqpBinding[mode](event);
          producer.publish('', queue, message.content, message.properties);
          request.end();
        });
        const received = await delivered;
        const spans = await tracing.waitForSpans((all) =>
          all.some((span) => span.name === `process ${queue}`),
        );
        const request = only(spans, 'POST /orders');
        const creation = only(spans, 'CloudEvents Create com.example.order.created');
        const send = only(spans, `send ${queue}`);
        const process = only(spans, `process ${queue}`);

        const sent = new CloudEvent<Order>({
          ...fieldsOf(event),
          traceparent: traceparentOf(creation),
        });
        const decoded = expectSameEvent(amqpBinding, received, sent);
        expect(decoded.tracestate).toBeUndefined();

        // Per event, the extension: the creation span. Per hop, the header: the send span.
        expect(creation.kind).toBe(SpanKind.PRODUCER);
        expect(isChildOf(creation, request)).toBe(true);
        expect(isChildOf(send, request)).toBe(true);
        expect(received.properties.headers?.['traceparent']).toBe(traceparentOf(send));
        expect(amqpBinding.traceHeader(received, 'traceparent')).not.toBe(traceparentOf(send));
        if (mode === 'binary') {
          expect(received.properties.headers?.['cloudEvents:traceparent']).toBe(
            traceparentOf(creation),
          );
        }
        // The consumer continues the hop.
        expect(isChildOf(process, send)).toBe(true);
      } finally {
        await consumer.close();
      }
    });
  }

  it('a binary-mode message with a malformed cloudEvents:traceparent still decodes; traceHeader reads no context from it', async () => {
    const queue = uniqueName('cloudevents-hostile');
    await channel.assertQueue(queue, { exclusive: true });
    // Malformed strings, and an AMQP integer where a string belongs.
    const values: readonly unknown[] = [...MALFORMED_TRACEPARENTS, 42];
    const delivered = collector<ConsumeMessage>(values.length);
    await channel.consume(queue, (message) => {
      if (message === null) return;
      channel.ack(message);
      delivered.add(message);
    });
    const event = orderEvent();
    for (const [index, value] of values.entries()) {
      // The producer's own headers: the event has no extension, so nothing overrides them.
      const message = amqpBinding.binary(event, {
        traceContext: false,
        headers: {
          'cloudEvents:traceparent': value,
          'cloudEvents:tracestate': TRACESTATE,
        },
      });
      channel.publish('', queue, message.content, { ...message.properties, messageId: `${index}` });
    }
    const received = await delivered.all;
    expect(received).toHaveLength(values.length);

    for (const message of received) {
      const value = values[Number(message.properties.messageId)];
      expect(message.properties.headers?.['cloudEvents:traceparent'], String(value)).toBe(value);
      expect(amqpBinding.isEvent(message)).toBe(true);
      expect(amqpBinding.traceHeader(message, 'traceparent'), String(value)).toBeUndefined();
      // A tracestate is meaningless without a valid traceparent (W3C).
      expect(amqpBinding.traceHeader(message, 'tracestate'), String(value)).toBeUndefined();
      const decoded = amqpBinding.toEvent<Order>(message);
      expect(fieldsOf(decoded), String(value)).toEqual({
        ...fieldsOf(event),
        traceparent: value,
        tracestate: TRACESTATE,
      });
    }
    expect(tracing.spans()).toEqual([]);
  });
});
