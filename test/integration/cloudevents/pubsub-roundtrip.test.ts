import type { Message } from '@google-cloud/pubsub';
import { SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { CloudEvent, ValidationError } from 'cloudevents';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  toPubSubMessage,
  tracePubSubCloudEventHandler,
  type ContentMode,
} from '../../../adapters/cloudevents/index.js';
import { traceTopic } from '../../../adapters/pubsub/index.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import {
  createFixture,
  deferred,
  fieldsOf,
  listen,
  only,
  parentId,
  spanId,
  traceId,
} from '../pubsub/kit.js';

const tracing = setupTestTracing();
const tracer = trace.getTracer('test');
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

interface Order {
  id: number;
  note: string;
}

const named = (spans: readonly ReadableSpan[], name: string) =>
  spans.filter((s) => s.name === name);

/** Subscribes a CloudEvents handler that acks and hands back what it saw. */
function receiveOne(f: Awaited<ReturnType<typeof createFixture>>) {
  const seen = deferred<{ event: CloudEvent<Order>; message: Message; active?: string }>();
  f.subscription.on(
    'message',
    tracePubSubCloudEventHandler<Order, Message, void>(
      (event, message) => {
        seen.resolve({ event, message, active: trace.getActiveSpan()?.spanContext().spanId });
        message.ack();
      },
      { subscription: f.subscription },
    ),
  );
  return seen.promise;
}

describe('CloudEvents over Pub/Sub', () => {
  for (const mode of ['binary', 'structured'] as ContentMode[]) {
    it(`a ${mode}-mode round trip keeps the event intact and the trace whole`, async () => {
      const f = await createFixture();
      try {
        const topic = traceTopic(f.topic);
        const received = receiveOne(f);
        const event = new CloudEvent<Order>({
          type: 'com.example.order.created',
          source: '/orders',
          subject: 'order-42',
          datacontenttype: 'application/json',
          data: { id: 42, note: 'crème brûlée ✓' },
          tenant: 'acme',
        });
        await tracer.startActiveSpan('POST /orders', async (span) => {
          await topic.publishMessage(toPubSubMessage(event, { mode }));
          span.end();
        });
        const { event: got, message, active } = await received;
        const spans = await tracing.waitForSpans(
          (s) => named(s, `subscribe ${f.subscriptionId}`).length === 1,
        );

        const request = only(spans, 'POST /orders');
        const creation = only(spans, 'CloudEvents Create com.example.order.created');
        const create = only(spans, `create ${f.topicId}`);
        const process = only(spans, `subscribe ${f.subscriptionId}`);

        // The event arrives as it was sent, plus its creation context.
        expect(got).toBeInstanceOf(CloudEvent);
        expect(fieldsOf(got)).toEqual({
          ...fieldsOf(event),
          traceparent: `00-${traceId(creation)}-${spanId(creation)}-01`,
        });
        expect(got.data).toEqual({ id: 42, note: 'crème brûlée ✓' });
        expect(got.validate()).toBe(true);

        // One trace: the creation span and the hop's create span under the request…
        expect(creation.kind).toBe(SpanKind.PRODUCER);
        expect(parentId(creation)).toBe(spanId(request));
        expect(parentId(create)).toBe(spanId(request));
        // …the process span under this hop's create span, linked to the event's creation.
        expect(traceId(process)).toBe(traceId(request));
        expect(parentId(process)).toBe(spanId(create));
        expect(process.links.map((l) => l.context.spanId)).toEqual([
          spanId(create),
          spanId(creation),
        ]);
        expect(active).toBe(spanId(process));
        const attributes = {
          'cloudevents.event_id': event.id,
          'cloudevents.event_source': '/orders',
          'cloudevents.event_type': 'com.example.order.created',
          'cloudevents.event_subject': 'order-42',
          'cloudevents.event_spec_version': '1.0',
        };
        expect(creation.attributes).toEqual(attributes);
        expect(process.attributes).toMatchObject(attributes);
        expect(process.events.map((e) => e.name)).toEqual(['ack']);

        // Per hop, the transport attribute; per event, the extension.
        expect(message.attributes['traceparent']).toBe(
          `00-${traceId(create)}-${spanId(create)}-01`,
        );
        if (mode === 'binary') {
          expect(message.attributes['ce-traceparent']).toBe(got.traceparent);
          expect(message.attributes['content-type']).toBe('application/json');
        } else {
          expect(message.attributes['content-type']).toBe(
            'application/cloudevents+json; charset=utf-8',
          );
        }
      } finally {
        await f.close();
      }
    });
  }

  it('an event forwarded to a second hop keeps its creation context; each hop has its own parent', async () => {
    const first = await createFixture();
    const second = await createFixture();
    try {
      const firstTopic = traceTopic(first.topic);
      const secondTopic = traceTopic(second.topic);
      listen(
        first.subscription,
        tracePubSubCloudEventHandler(
          async (event: CloudEvent<unknown>, message: Message) => {
            // An intermediary forwards the same event, structured this time.
            await secondTopic.publishMessage(toPubSubMessage(event, { mode: 'structured' }));
            message.ack();
          },
          { subscription: first.subscription },
        ),
      );
      const received = receiveOne(second);
      const event = new CloudEvent({ type: 'com.example.ping', source: '/ping', data: 'hi' });
      await firstTopic.publishMessage(toPubSubMessage(event));
      const { event: got } = await received;
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${second.subscriptionId}`).length === 1,
      );
      const creation = only(spans, 'CloudEvents Create com.example.ping');
      const hop1 = only(spans, `subscribe ${first.subscriptionId}`);
      const create2 = only(spans, `create ${second.topicId}`);
      const hop2 = only(spans, `subscribe ${second.subscriptionId}`);
      expect(got.traceparent).toBe(`00-${traceId(creation)}-${spanId(creation)}-01`);
      expect(parentId(create2)).toBe(spanId(hop1));
      expect(parentId(hop2)).toBe(spanId(create2));
      expect(hop2.links.map((l) => l.context.spanId)).toContain(spanId(creation));
      expect(named(spans, 'CloudEvents Create com.example.ping')).toHaveLength(1);
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('a CloudEvent with a malformed traceparent extension is processed on a new trace', async () => {
    const f = await createFixture();
    try {
      const received = receiveOne(f);
      const event = new CloudEvent<Order>(
        {
          type: 'com.example.order.created',
          source: '/orders',
          data: { id: 1, note: '' },
          traceparent: '00-ffffffffffffffffffffffffffffffff-0000000000000000-01',
        },
        false,
      );
      // The raw client, so only the event's own (malformed) context travels.
      await f.topic.publishMessage(toPubSubMessage(event, { traceContext: false }));
      const { event: got } = await received;
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length === 1,
      );
      const process = only(spans, `subscribe ${f.subscriptionId}`);
      expect(process.parentSpanContext).toBeUndefined();
      expect(process.links).toEqual([]);
      expect(process.attributes['cloudevents.event_id']).toBe(event.id);
      expect(got.traceparent).toBe(event.traceparent);
    } finally {
      await f.close();
    }
  });

  it('an event whose producer set only the extension continues under its creation context', async () => {
    const f = await createFixture();
    try {
      const received = receiveOne(f);
      const event = new CloudEvent({
        type: 'com.example.external',
        source: 'https://example.com',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      });
      await f.topic.publishMessage(toPubSubMessage(event, { traceContext: false }));
      await received;
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length === 1,
      );
      const process = only(spans, `subscribe ${f.subscriptionId}`);
      expect(traceId(process)).toBe('0af7651916cd43dd8448eb211c80319c');
      expect(parentId(process)).toBe('b7ad6b7169203331');
      expect(process.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
    } finally {
      await f.close();
    }
  });

  it('a message that is not a CloudEvent fails the handler call, recorded on the span, nacked with autoSettle, and handed to onError', async () => {
    const f = await createFixture();
    try {
      const failed = deferred<unknown>();
      let calls = 0;
      const handler = tracePubSubCloudEventHandler(
        () => {
          calls++;
        },
        { subscription: f.subscription, autoSettle: true, onError: (e) => failed.resolve(e) },
      );
      f.subscription.on('message', handler);
      await f.topic.publishMessage({ data: Buffer.from('plain text'), attributes: { a: 'b' } });
      const error = await failed.promise;
      expect(error).toBeInstanceOf(ValidationError);
      expect(calls).toBe(0);
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length >= 1,
      );
      const process = named(spans, `subscribe ${f.subscriptionId}`)[0] as ReadableSpan;
      expect(process.attributes['error.type']).toBe('ValidationError');
      expect(process.events.map((e) => e.name)).toEqual(['exception', 'nack']);
      await f.subscription.close();
    } finally {
      await f.close();
    }
  });
});
