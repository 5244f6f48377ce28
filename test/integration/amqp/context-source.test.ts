/**
 * An old producer (plain amqplib, trace context hand-rolled into a JSON body field) →
 * a consumer switched to tracehop with `contextSource: fromBodyField('traceContext')`, on
 * the real RabbitMQ: the trace continues; malformed, non-JSON and oversized bodies are
 * processed on new traces, said once; a message with standard headers never asks a source.
 */
import { trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { ChannelModel, ConsumeMessage, Message } from 'amqplib';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { CloudEvent } from 'cloudevents';
import { traceAmqpHandler, traceChannel } from '../../../adapters/amqp/index.js';
import {
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  traceAmqpCloudEventHandler,
} from '../../../adapters/cloudevents/index.js';
import { toBodyField } from '../../../src/body-context.js';
import { ATTR_CONTEXT_SOURCE, fromBodyField } from '../../../src/context-source.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import {
  BODY_SPAN_ID,
  BODY_TRACE_ID,
  expectOldProducerOutcome,
  OLD_MESSAGES,
  probe,
  watchParse,
} from '../context-source-kit.js';
import { collector, openConnection, uniqueName } from './kit.js';

const tracing = setupTestTracing();
const diagWarnings = captureDiagWarnings();
let connection: ChannelModel;

beforeAll(async () => {
  connection = await openConnection();
});
afterAll(async () => {
  await connection.close();
  await tracing.shutdown();
});
beforeEach(() => {
  tracing.reset();
  diagWarnings.start();
});
afterEach(() => {
  diagWarnings.stop();
  expect(tracing.openSpans()).toEqual([]);
});

const caseOf = (message: Message): string | undefined => {
  const value: unknown = message.properties.headers?.['case'];
  return typeof value === 'string' ? value : undefined;
};

it('traceChannel consume: body-field context continued, bad bodies on new traces said once, headers first', async () => {
  const parse = watchParse();
  const raw = await connection.createChannel(); // the old producer: no tracehop
  const { sources, consulted } = probe<Message>(caseOf);
  const consumer = traceChannel(await connection.createChannel(), { contextSource: sources });
  const queue = uniqueName('context-source');
  await raw.assertQueue(queue, { exclusive: true });
  const ranIn = new Map<string, string | undefined>();
  const delivered = collector<ConsumeMessage>(OLD_MESSAGES.length);
  await consumer.consume(queue, (message) => {
    if (message === null) return;
    ranIn.set(caseOf(message) ?? '?', trace.getActiveSpan()?.spanContext().spanId);
    consumer.ack(message);
    delivered.add(message);
  });
  for (const old of OLD_MESSAGES) {
    raw.sendToQueue(queue, Buffer.from(old.body), {
      contentType: 'application/json',
      headers: { case: old.id, ...old.traceHeaders },
    });
  }
  await delivered.all;
  const all = await tracing.waitForSpans(
    (s) => s.filter((x) => x.name === `process ${queue}`).length === OLD_MESSAGES.length,
  );
  const parsed = parse.stop();
  const spans = new Map<string, ReadableSpan>();
  for (const [id, spanId] of ranIn) {
    const found = all.find((s) => s.spanContext().spanId === spanId);
    if (found !== undefined) spans.set(id, found);
  }
  expectOldProducerOutcome({
    system: 'rabbitmq',
    spans,
    consulted,
    parsed,
    warnings: diagWarnings.messages,
  });
  await raw.close();
  await consumer.close();
});

it('traceAmqpHandler with autoSettle reads the same body field; toBodyField is what an unmigrated consumer reads', async () => {
  const channel = await connection.createChannel();
  const producer = traceChannel(await connection.createChannel());
  const queue = uniqueName('context-source-handler');
  await channel.assertQueue(queue, { exclusive: true });
  const done = collector<string | undefined>(1);
  const handler = traceAmqpHandler(
    (message: ConsumeMessage | null) => {
      if (message === null) return;
      // What a consumer not yet migrated would do by hand, from the same body:
      const body = JSON.parse(message.content.toString()) as { traceContext?: unknown };
      done.add(JSON.stringify(body.traceContext));
    },
    { channel, queue, autoSettle: true, contextSource: fromBodyField('traceContext') },
  );
  await channel.consume(queue, handler);
  let requestSpanId = '';
  trace.getTracer('test').startActiveSpan('POST /orders', (request) => {
    requestSpanId = request.spanContext().spanId;
    // A migrated producer during the transition: headers by tracehop, body field for the rest.
    producer.sendToQueue(queue, toBodyField(Buffer.from('{"orderId":9}'), 'traceContext'));
    request.end();
  });
  const [bodyContext] = await done.all;
  const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
  const send = spans.find((s) => s.name === `send ${queue}`);
  const process = spans.find((s) => s.name === `process ${queue}`);
  // The body carries the request's span; the headers tracehop's send span, which wins.
  expect(bodyContext).toContain(requestSpanId);
  expect(send?.parentSpanContext?.spanId).toBe(requestSpanId);
  expect(process?.parentSpanContext?.spanId).toBe(send?.spanContext().spanId);
  expect(process?.attributes[ATTR_CONTEXT_SOURCE]).toBeUndefined();
  await producer.close();
  await channel.close();
});

it('a structured CloudEvent whose producer put the context in its data: fromBodyField("data.traceContext")', async () => {
  const channel = await connection.createChannel();
  const queue = uniqueName('context-source-cloudevent');
  await channel.assertQueue(queue, { exclusive: true });
  const handled = collector<unknown>(1);
  await channel.consume(
    queue,
    traceAmqpCloudEventHandler(
      (event: CloudEvent<{ orderId: number }>) => {
        handled.add({ data: event.data, active: trace.getActiveSpan()?.spanContext().spanId });
      },
      {
        channel,
        queue,
        autoSettle: true,
        contextSource: fromBodyField('data.traceContext'),
      },
    ),
  );
  // The old producer: an event without the distributed-tracing extension, context in `data`.
  const event = {
    specversion: '1.0',
    id: 'order-1',
    source: '/orders',
    type: 'com.example.order.created',
    datacontenttype: 'application/json',
    data: {
      orderId: 1,
      traceContext: { traceparent: `00-${BODY_TRACE_ID}-${BODY_SPAN_ID}-01` },
    },
  };
  channel.sendToQueue(queue, Buffer.from(JSON.stringify(event)), {
    contentType: CLOUDEVENTS_JSON_CONTENT_TYPE,
  });
  const [seen] = (await handled.all) as { data: { orderId: number }; active: string }[];
  const spans = await tracing.waitForSpans((s) => s.some((x) => x.name === `process ${queue}`));
  const process = spans.find((s) => s.name === `process ${queue}`);
  expect(seen?.data.orderId).toBe(1);
  expect(seen?.active).toBe(process?.spanContext().spanId);
  expect(process?.spanContext().traceId).toBe(BODY_TRACE_ID);
  expect(process?.parentSpanContext?.spanId).toBe(BODY_SPAN_ID);
  expect(process?.attributes[ATTR_CONTEXT_SOURCE]).toBe('body');
  expect(process?.attributes['cloudevents.event_id']).toBe('order-1');
  await channel.close();
});
