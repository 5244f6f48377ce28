import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Channel, ChannelModel, ConsumeMessage, Message, Options } from 'amqplib';
import { CloudEvent, ValidationError } from 'cloudevents';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ATTR_AMQP_REQUEUE, traceChannel } from '../../../adapters/amqp/index.js';
import {
  amqpBinding,
  CLOUDEVENTS_JSON_CONTENT_TYPE,
  traceAmqpCloudEventHandler,
  type AmqpCloudEventHandlerOptions,
  type AmqpEventMessage,
} from '../../../adapters/cloudevents/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import {
  collector,
  deferred,
  isChildOf,
  named,
  only,
  openConnection,
  uniqueName,
} from '../amqp/kit.js';
import {
  cloudEventAttributeNames,
  contextOf,
  EXTENSION_SPAN_ID,
  EXTENSION_TRACE_ID,
  fieldsOf,
  linkedContexts,
  MODES,
  NOT_JSON_BODY,
  orderEvent,
  orderEventAttributes,
  SOURCELESS_EVENT_BODY,
  TRACEPARENT,
  TRACESTATE,
  traceparentOf,
  type Order,
} from './event-kit.js';

const tracing = setupTestTracing();
const tracer = trace.getTracer('test');
let connection: ChannelModel;
/** A plain amqplib channel: the producer that knows nothing of tracehop, and queue checks. */
let plain: Channel;

beforeAll(async () => {
  connection = await openConnection();
  plain = await connection.createChannel();
});
afterAll(async () => {
  await connection.close();
  await tracing.shutdown();
});
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

/** What the decorated handler saw of one event. */
interface Handled {
  event: CloudEvent<Order>;
  message: Message;
  /** The span active when the handler ran. */
  active: string | undefined;
  /** The span the handler started, as its own work. */
  inner: string;
}

type EventHandlerOptions = Omit<AmqpCloudEventHandlerOptions, 'channel' | 'queue'>;

interface EventConsumer {
  queue: string;
  /** The first `count` events the handler was called with. */
  handled: Promise<Handled[]>;
  /** How many times the handler was called. */
  calls(): number;
  close(): Promise<void>;
}

/**
 * A fresh exclusive queue consumed on its own channel, wrapped with `traceChannel` so that
 * the handler's acks (or autoSettle's) are recorded on the `process` span. The handler
 * starts a span of its own, records what it saw, and acks unless `autoSettle` is on.
 */
async function consumeEvents(
  count: number,
  options: EventHandlerOptions = {},
  queueOptions: Options.AssertQueue = {},
): Promise<EventConsumer> {
  const raw = await connection.createChannel();
  const channel = traceChannel(raw);
  const queue = uniqueName('ce-handler');
  await raw.assertQueue(queue, { exclusive: true, ...queueOptions });
  const handled = collector<Handled>(count);
  let calls = 0;
  const handler = traceAmqpCloudEventHandler<Order, void>(
    (event, message) => {
      calls++;
      const active = trace.getActiveSpan()?.spanContext().spanId;
      const inner = tracer.startSpan('charge card');
      inner.end();
      if (options.autoSettle === undefined) channel.ack(message);
      handled.add({ event, message, active, inner: inner.spanContext().spanId });
    },
    { channel, queue, ...options },
  );
  // The decorated handler takes deliveries, not the null of a cancelled consumer.
  await raw.consume(queue, (message) => {
    if (message !== null) handler(message);
  });
  return { queue, handled: handled.all, calls: () => calls, close: () => raw.close() };
}

async function first<T>(items: Promise<T[]>): Promise<T> {
  const [item] = await items;
  if (item === undefined) throw new Error('nothing was handled');
  return item;
}

/** Waits for `count` ended `process` spans of `queue` and returns every span. */
function processed(queue: string, count = 1): Promise<ReadableSpan[]> {
  return tracing.waitForSpans((all) => named(all, `process ${queue}`).length === count);
}

const spanIdOf = (span: ReadableSpan): string => span.spanContext().spanId;

describe('traceAmqpCloudEventHandler on RabbitMQ', () => {
  for (const mode of MODES) {
    it(`${mode} mode through traceChannel: the handler gets the decoded event and the message, in a process span under the send span that links to the event's creation`, async () => {
      const consumer = await consumeEvents(1);
      try {
        const producer = traceChannel(plain);
        const event = orderEvent({ tenant: 'acme' });
        let sent: AmqpEventMessage | undefined;
        tracer.startActiveSpan('POST /orders', (request) => {
          sent = amqpBinding[mode](event);
          producer.publish('', consumer.queue, sent.content, sent.properties);
          request.end();
        });
        const handled = await first(consumer.handled);
        const spans = await processed(consumer.queue);
        const request = only(spans, 'POST /orders');
        const creation = only(spans, 'CloudEvents Create com.example.order.created');
        const send = only(spans, `send ${consumer.queue}`);
        const process = only(spans, `process ${consumer.queue}`);
        const work = only(spans, 'charge card');

        // The handler gets the event as it was sent, plus its creation context, and the message.
        expect(handled.event).toBeInstanceOf(CloudEvent);
        expect(fieldsOf(handled.event)).toEqual({
          ...fieldsOf(event),
          traceparent: traceparentOf(creation),
        });
        expect(handled.event.data).toEqual({ id: 42, note: 'crème brûlée ✓' });
        expect(handled.message.fields.routingKey).toBe(consumer.queue);
        expect(handled.message.content.equals(sent?.content ?? Buffer.alloc(0))).toBe(true);
        expect(handled.message.properties.headers?.['traceparent']).toBe(traceparentOf(send));
        expect(consumer.calls()).toBe(1);

        // The process span continues the hop and links to the event's creation.
        expect(isChildOf(creation, request)).toBe(true);
        expect(isChildOf(send, request)).toBe(true);
        expect(process.kind).toBe(SpanKind.CONSUMER);
        expect(isChildOf(process, send)).toBe(true);
        expect(linkedContexts(process)).toEqual([contextOf(send), contextOf(creation)]);
        expect(process.attributes).toMatchObject(orderEventAttributes(event));
        expect(process.attributes['messaging.destination.name']).toContain(consumer.queue);
        expect(process.events.map((e) => e.name)).toEqual(['ack']);
        expect(process.status.code).toBe(SpanStatusCode.UNSET);

        // The handler runs in the process span: its own spans are children of it.
        expect(handled.active).toBe(spanIdOf(process));
        expect(handled.inner).toBe(spanIdOf(work));
        expect(isChildOf(work, process)).toBe(true);
      } finally {
        await consumer.close();
      }
    });

    it(`${mode} mode from a plain amqplib producer, with only the trace extension: the process span is a child of the event's creation context`, async () => {
      const consumer = await consumeEvents(1);
      try {
        const event = orderEvent({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
        const message = amqpBinding[mode](event);
        plain.publish('', consumer.queue, message.content, message.properties);
        const handled = await first(consumer.handled);
        const spans = await processed(consumer.queue);
        const process = only(spans, `process ${consumer.queue}`);
        const work = only(spans, 'charge card');

        // No transport context travelled: only the event's.
        expect(handled.message.properties.headers?.['traceparent']).toBeUndefined();
        expect(fieldsOf(handled.event)).toEqual(fieldsOf(event));

        expect(process.spanContext().traceId).toBe(EXTENSION_TRACE_ID);
        expect(process.parentSpanContext?.spanId).toBe(EXTENSION_SPAN_ID);
        expect(process.parentSpanContext?.isRemote).toBe(true);
        expect(linkedContexts(process)).toEqual([`${EXTENSION_TRACE_ID}:${EXTENSION_SPAN_ID}`]);
        expect(process.links[0]?.context.traceState?.serialize()).toBe(TRACESTATE);
        expect(process.attributes).toMatchObject(orderEventAttributes(event));
        expect(process.events.map((e) => e.name)).toEqual(['ack']);
        expect(handled.active).toBe(spanIdOf(process));
        expect(isChildOf(work, process)).toBe(true);
        // Nothing else was traced: the producer is plain, the creation span is someone else's.
        expect(spans.map((s) => s.name).sort()).toEqual(
          ['charge card', `process ${consumer.queue}`].sort(),
        );
      } finally {
        await consumer.close();
      }
    });

    it(`${mode} mode from a plain producer, relation 'link': the process span starts a new trace that links to the event's creation context`, async () => {
      const consumer = await consumeEvents(1, { relation: 'link' });
      try {
        const event = orderEvent({ traceparent: TRACEPARENT });
        const message = amqpBinding[mode](event);
        plain.publish('', consumer.queue, message.content, message.properties);
        const handled = await first(consumer.handled);
        const spans = await processed(consumer.queue);
        const process = only(spans, `process ${consumer.queue}`);
        const work = only(spans, 'charge card');

        expect(process.parentSpanContext).toBeUndefined();
        expect(process.spanContext().traceId).not.toBe(EXTENSION_TRACE_ID);
        expect(linkedContexts(process)).toEqual([`${EXTENSION_TRACE_ID}:${EXTENSION_SPAN_ID}`]);
        expect(process.attributes['cloudevents.event_id']).toBe(event.id);
        expect(process.events.map((e) => e.name)).toEqual(['ack']);
        expect(handled.active).toBe(spanIdOf(process));
        expect(isChildOf(work, process)).toBe(true);
      } finally {
        await consumer.close();
      }
    });
  }

  it("through traceChannel, relation 'link': a new trace linked to both the send span and the event's creation", async () => {
    const consumer = await consumeEvents(1, { relation: 'link' });
    try {
      const producer = traceChannel(plain);
      const event = orderEvent();
      tracer.startActiveSpan('POST /orders', (request) => {
        const message = amqpBinding.structured(event);
        producer.publish('', consumer.queue, message.content, message.properties);
        request.end();
      });
      await consumer.handled;
      const spans = await processed(consumer.queue);
      const request = only(spans, 'POST /orders');
      const creation = only(spans, 'CloudEvents Create com.example.order.created');
      const send = only(spans, `send ${consumer.queue}`);
      const process = only(spans, `process ${consumer.queue}`);

      expect(process.parentSpanContext).toBeUndefined();
      expect(process.spanContext().traceId).not.toBe(request.spanContext().traceId);
      expect(linkedContexts(process)).toEqual([contextOf(send), contextOf(creation)]);
      expect(process.attributes).toMatchObject(orderEventAttributes(event));
      expect(isChildOf(only(spans, 'charge card'), process)).toBe(true);
    } finally {
      await consumer.close();
    }
  });

  const notEvents = [
    {
      what: 'a plain-text message',
      content: 'plain text, no event',
      properties: { contentType: 'text/plain', headers: { origin: 'legacy' } },
      error: ValidationError,
      errorType: 'ValidationError',
    },
    {
      what: 'a structured-mode message whose body is not JSON',
      content: NOT_JSON_BODY,
      properties: { contentType: CLOUDEVENTS_JSON_CONTENT_TYPE },
      error: SyntaxError,
      errorType: 'SyntaxError',
    },
  ] as const;

  for (const bad of notEvents) {
    it(`${bad.what}: the handler is not called; with autoSettle the ${bad.errorType} goes to onError, is recorded on the span, and the message is nacked (dead-lettered)`, async () => {
      // A nack without requeue dead-letters the message: that proves the broker got a nack.
      const deadLetters = uniqueName('ce-dead-letters');
      await plain.assertQueue(deadLetters, { exclusive: true });
      const deadLettered = deferred<ConsumeMessage>();
      await plain.consume(deadLetters, (message) => {
        if (message === null) return;
        plain.ack(message);
        deadLettered.resolve(message);
      });
      const failures: { error: unknown; message: Message }[] = [];
      const failed = deferred();
      const consumer = await consumeEvents(
        1,
        {
          autoSettle: { requeue: false },
          onError: (error, message) => {
            failures.push({ error, message });
            failed.resolve();
          },
        },
        { deadLetterExchange: '', deadLetterRoutingKey: deadLetters },
      );
      try {
        const producer = traceChannel(plain);
        producer.publish('', consumer.queue, Buffer.from(bad.content), bad.properties);
        await failed.promise;
        // The consumer goes on: the next event is handled.
        const event = orderEvent();
        const message = amqpBinding.binary(event);
        producer.publish('', consumer.queue, message.content, message.properties);
        const handled = await first(consumer.handled);
        const dead = await deadLettered.promise;
        const spans = await processed(consumer.queue, 2);

        expect(failures).toHaveLength(1);
        const [failure] = failures;
        expect(failure?.error).toBeInstanceOf(bad.error);
        expect(failure?.message.content.toString('utf8')).toBe(bad.content);
        expect(consumer.calls()).toBe(1);
        expect(handled.event.id).toBe(event.id);
        expect(dead.content.toString('utf8')).toBe(bad.content);

        const sends = named(spans, `send ${consumer.queue}`);
        expect(sends).toHaveLength(2);
        const [rejected, accepted] = named(spans, `process ${consumer.queue}`).sort(
          (a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1],
        ) as [ReadableSpan, ReadableSpan];
        // The failed delivery has its ordinary process span, under its send span.
        expect(isChildOf(rejected, sends[0] as ReadableSpan)).toBe(true);
        expect(rejected.status.code).toBe(SpanStatusCode.ERROR);
        expect(rejected.attributes['error.type']).toBe(bad.errorType);
        expect(rejected.events.map((e) => e.name)).toEqual(['exception', 'nack']);
        expect(rejected.events[1]?.attributes?.[ATTR_AMQP_REQUEUE]).toBe(false);
        expect(cloudEventAttributeNames(rejected)).toEqual([]);
        expect(rejected.links.map((l) => l.context.spanId)).toEqual([
          spanIdOf(sends[0] as ReadableSpan),
        ]);
        // autoSettle acks the event that was handled.
        expect(accepted.status.code).toBe(SpanStatusCode.UNSET);
        expect(accepted.events.map((e) => e.name)).toEqual(['ack']);
        expect(accepted.attributes['cloudevents.event_id']).toBe(event.id);
      } finally {
        await consumer.close();
        await plain.deleteQueue(deadLetters);
      }
    });
  }

  it('strict: an event the SDK rejects in strict mode goes to onError; without strict the same bytes reach the handler', async () => {
    const failed = deferred<unknown>();
    const strict = await consumeEvents(1, {
      strict: true,
      autoSettle: { requeue: false },
      onError: (error) => failed.resolve(error),
    });
    const lenient = await consumeEvents(1);
    try {
      for (const queue of [strict.queue, lenient.queue]) {
        plain.publish('', queue, Buffer.from(SOURCELESS_EVENT_BODY), {
          contentType: CLOUDEVENTS_JSON_CONTENT_TYPE,
        });
      }
      expect(await failed.promise).toBeInstanceOf(ValidationError);
      const handled = await first(lenient.handled);
      expect(handled.event.id).toBe('no-source-1');
      expect(handled.event.source).toBeUndefined();
      expect(handled.event.data).toEqual({ id: 7, note: 'no source' });
      const spans = await tracing.waitForSpans(
        (all) =>
          named(all, `process ${strict.queue}`).length === 1 &&
          named(all, `process ${lenient.queue}`).length === 1,
      );
      expect(strict.calls()).toBe(0);
      const rejected = only(spans, `process ${strict.queue}`);
      expect(rejected.attributes['error.type']).toBe('ValidationError');
      expect(rejected.events.map((e) => e.name)).toEqual(['exception', 'nack']);
      const accepted = only(spans, `process ${lenient.queue}`);
      expect(accepted.attributes['cloudevents.event_id']).toBe('no-source-1');
      expect(accepted.events.map((e) => e.name)).toEqual(['ack']);
    } finally {
      await strict.close();
      await lenient.close();
    }
  });

  it('passed to the traceChannel wrapper’s own consume, the decorated handler is traced once', async () => {
    const raw = await connection.createChannel();
    const channel = traceChannel(raw);
    try {
      const queue = uniqueName('ce-handler-wrapped');
      await raw.assertQueue(queue, { exclusive: true });
      const handled = deferred<string | undefined>();
      const handler = traceAmqpCloudEventHandler(
        (_event, message) => {
          handled.resolve(trace.getActiveSpan()?.spanContext().spanId);
          channel.ack(message);
        },
        { channel, queue },
      );
      // The decorated handler's type refuses amqplib's null (a cancelled consumer): cast.
      await channel.consume(queue, handler);
      const message = amqpBinding.binary(orderEvent());
      channel.publish('', queue, message.content, message.properties);
      const active = await handled.promise;
      const spans = await processed(queue);
      const process = only(spans, `process ${queue}`);
      expect(active).toBe(spanIdOf(process));
      expect(process.events.map((e) => e.name)).toEqual(['ack']);
      // No second process span, from the wrapper, left waiting for a settle.
      expect(tracing.openSpans().map((s) => s.name)).toEqual([]);
    } finally {
      await raw.close();
      // Were there a second span, the close would end it (ChannelClosedError): wait for that.
      await tracing.waitForSpans(() => tracing.openSpans().length === 0);
    }
  });
});

describe('traceAmqpCloudEventHandler: a cancelled consumer', () => {
  // amqplib delivers `null` when the broker cancels the consumer (its queue was deleted):
  // no event to decode, and nothing may be thrown into amqplib's frame loop.
  it('when the broker cancels the consumer, the null delivery neither reaches the handler nor breaks the connection', async () => {
    const own = await openConnection();
    const failures: unknown[] = [];
    own.on('error', (error: unknown) => failures.push(error));
    try {
      const raw = await own.createChannel();
      raw.on('error', (error: unknown) => failures.push(error));
      const channel = traceChannel(raw);
      const queue = uniqueName('ce-handler-cancelled');
      await raw.assertQueue(queue, { exclusive: true });
      let calls = 0;
      const handler = traceAmqpCloudEventHandler(
        () => {
          calls++;
        },
        { channel, queue },
      ) as (message: ConsumeMessage | null) => void;
      const cancelled = deferred();
      await raw.consume(queue, (message) => {
        try {
          handler(message);
        } finally {
          if (message === null) cancelled.resolve();
        }
      });
      await raw.deleteQueue(queue);
      await cancelled.promise;
      expect(calls).toBe(0);
      // The connection still works.
      const after = await own.createChannel();
      await after.close();
      expect(failures).toEqual([]);
    } finally {
      await own.close().catch(() => undefined);
    }
  });
});
