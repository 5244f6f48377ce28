import { setTimeout as delay } from 'node:timers/promises';
import type { Message } from '@google-cloud/pubsub';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tracePubSub, tracePubSubHandler, traceTopic } from '../../../adapters/pubsub/index.js';
import { ATTR_PROCESS_TIMED_OUT } from '../../../src/process-scope.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import {
  collect,
  createFixture,
  deferred,
  listen,
  only,
  parentId,
  spanId,
  traceId,
} from './kit.js';

const tracing = setupTestTracing();
const tracer = trace.getTracer('test');
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

const named = (spans: readonly ReadableSpan[], name: string) =>
  spans.filter((s) => s.name === name);

describe('publish and process on the emulator', () => {
  it('runs the handler in a subscribe span that is a child of the create span, with its context active', async () => {
    const f = await createFixture();
    try {
      const topic = traceTopic(f.topic);
      const attributes = { customer: 'c-7' };
      const inHandler = deferred<{ active?: string; afterAwait?: string; received: Message }>();
      listen(
        f.subscription,
        tracePubSubHandler(
          async (message: Message) => {
            const active = trace.getActiveSpan()?.spanContext().spanId;
            await delay(1);
            const afterAwait = trace.getActiveSpan()?.spanContext().spanId;
            tracer.startSpan('charge card').end();
            message.ack();
            inHandler.resolve({ active, afterAwait, received: message });
          },
          { subscription: f.subscription },
        ),
      );

      const messageId = await tracer.startActiveSpan('POST /orders', async (span) => {
        try {
          return await topic.publishMessage({ data: Buffer.from('order-42'), attributes });
        } finally {
          span.end();
        }
      });
      const { active, afterAwait, received } = await inHandler.promise;
      const spans = await tracing.waitForSpans(
        (s) =>
          named(s, `subscribe ${f.subscriptionId}`).length === 1 &&
          named(s, 'charge card').length === 1,
      );

      const request = only(spans, 'POST /orders');
      const create = only(spans, `create ${f.topicId}`);
      const process = only(spans, `subscribe ${f.subscriptionId}`);
      const nested = only(spans, 'charge card');

      expect(create.kind).toBe(SpanKind.PRODUCER);
      expect(parentId(create)).toBe(spanId(request));
      expect(create.attributes).toMatchObject({
        'messaging.system.name': 'gcp.pubsub',
        'messaging.operation.type': 'create',
        'messaging.operation.name': 'create',
        'messaging.destination.name': f.topicId,
        'messaging.message.id': messageId,
      });

      expect(process.kind).toBe(SpanKind.CONSUMER);
      expect(traceId(process)).toBe(traceId(create));
      expect(parentId(process)).toBe(spanId(create));
      expect(process.links.map((l) => l.context.spanId)).toEqual([spanId(create)]);
      expect(process.attributes).toMatchObject({
        'messaging.system.name': 'gcp.pubsub',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'subscribe',
        'messaging.destination.subscription.name': f.subscriptionId,
        'messaging.destination.name': f.topicId,
        'messaging.message.id': messageId,
        'gcp.pubsub.message.ack_id': received.ackId,
      });
      expect(process.events.map((e) => [e.name, e.attributes])).toEqual([
        ['ack', { 'messaging.operation.type': 'settle', 'messaging.operation.name': 'ack' }],
      ]);

      // The process span is active in the handler, before and after an await.
      expect(active).toBe(spanId(process));
      expect(afterAwait).toBe(spanId(process));
      expect(parentId(nested)).toBe(spanId(process));

      // The message carries the create span's context, plain and as the client's own
      // googclient_traceparent; the caller's attributes are untouched.
      expect(received.attributes).toEqual({
        customer: 'c-7',
        traceparent: `00-${traceId(create)}-${spanId(create)}-01`,
        googclient_traceparent: `00-${traceId(create)}-${spanId(create)}-01`,
      });
      expect(attributes).toEqual({ customer: 'c-7' });
      expect(received.data.toString()).toBe('order-42');
    } finally {
      await f.close();
    }
  });

  it('200 messages on 5 ordering keys with concurrent async handlers: each process span under its own create span, no context bleeding', async () => {
    const f = await createFixture({ messageOrdering: true });
    try {
      const topic = traceTopic(f.topic);
      const count = 200;
      const observed = new Map<string, { processSpan?: string; afterAwait?: string }>();
      const all = collect(
        f.subscription,
        count,
        tracePubSubHandler(
          async (message: Message) => {
            const n = message.attributes['n'] as string;
            const processSpan = trace.getActiveSpan()?.spanContext().spanId;
            // Interleave with the other handlers: some finish at once, others later.
            await delay(Number(n) % 7);
            const work = tracer.startSpan('work', { attributes: { n } });
            await delay(Number(n) % 3);
            work.end();
            observed.set(n, {
              processSpan,
              afterAwait: trace.getActiveSpan()?.spanContext().spanId,
            });
            message.ack();
          },
          { subscription: f.subscription },
        ),
      );

      const published = Array.from({ length: count }, (_, i) =>
        tracer.startActiveSpan(`request ${i}`, (span) => {
          const id = topic.publishMessage({
            data: Buffer.from(`m${i}`),
            attributes: { n: String(i) },
            orderingKey: `key-${i % 5}`,
          });
          span.end();
          return id;
        }),
      );
      const ids = await Promise.all(published);
      expect(new Set(ids).size).toBe(count);
      await all;
      const spans = await tracing.waitForSpans(
        (s) =>
          named(s, `subscribe ${f.subscriptionId}`).length === count &&
          named(s, 'work').length === count,
      );

      const createById = new Map(
        named(spans, `create ${f.topicId}`).map((s) => [s.attributes['messaging.message.id'], s]),
      );
      const processes = named(spans, `subscribe ${f.subscriptionId}`);
      const processById = new Map(processes.map((s) => [s.attributes['messaging.message.id'], s]));
      const works = new Map(named(spans, 'work').map((s) => [s.attributes['n'], s]));
      expect(createById.size).toBe(count);
      expect(processById.size).toBe(count);

      for (let i = 0; i < count; i++) {
        const id = ids[i] as string;
        const request = only(spans, `request ${i}`);
        const create = createById.get(id) as ReadableSpan;
        const process = processById.get(id) as ReadableSpan;
        const work = works.get(String(i)) as ReadableSpan;
        expect(parentId(create)).toBe(spanId(request));
        expect(create.attributes['gcp.pubsub.message.ordering_key']).toBe(`key-${i % 5}`);
        expect(process.attributes['gcp.pubsub.message.ordering_key']).toBe(`key-${i % 5}`);
        expect(traceId(process)).toBe(traceId(request));
        expect(parentId(process)).toBe(spanId(create));
        expect(parentId(work)).toBe(spanId(process));
        expect(observed.get(String(i))).toEqual({
          processSpan: spanId(process),
          afterAwait: spanId(process),
        });
      }
    } finally {
      await f.close();
    }
  });

  it('a handler that throws has its message nacked (autoSettle), redelivered, and processed in a second span', async () => {
    const f = await createFixture();
    try {
      const topic = traceTopic(f.topic);
      let attempts = 0;
      const failure = new TypeError('payment service down');
      const handler = tracePubSubHandler(
        async (message: Message) => {
          attempts++;
          await delay(1);
          if (attempts === 1) throw failure;
          expect(message.deliveryAttempt).toBeGreaterThanOrEqual(0);
        },
        {
          subscription: f.subscription,
          autoSettle: true,
          onError: (error) => rejections.push(error),
        },
      );
      const rejections: unknown[] = [];
      const both = collect(f.subscription, 2, handler);
      await topic.publishMessage({ data: Buffer.from('retry me') });
      await both;
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length === 2,
      );

      // The nack handled the error: it reaches onError unchanged, never the emitter.
      expect(rejections).toEqual([failure]);
      const create = only(spans, `create ${f.topicId}`);
      const [first, second] = named(spans, `subscribe ${f.subscriptionId}`) as [
        ReadableSpan,
        ReadableSpan,
      ];
      expect(parentId(first)).toBe(spanId(create));
      expect(parentId(second)).toBe(spanId(create));
      expect(first.status.code).toBe(SpanStatusCode.ERROR);
      expect(first.attributes['error.type']).toBe('TypeError');
      expect(first.events.map((e) => e.name)).toEqual(['exception', 'nack']);
      expect(second.status.code).toBe(SpanStatusCode.UNSET);
      expect(second.events.map((e) => e.name)).toEqual(['ack']);
      expect(first.attributes['messaging.message.id']).toBe(
        second.attributes['messaging.message.id'],
      );
    } finally {
      await f.close();
    }
  });

  it('a message never acked has its span ended by the settle timeout', async () => {
    const f = await createFixture();
    try {
      const topic = traceTopic(f.topic);
      const handled = collect(
        f.subscription,
        1,
        tracePubSubHandler(
          () => {
            // Returns without ack or nack: the client keeps leasing the message.
          },
          { subscription: f.subscription, settleTimeoutMs: 200 },
        ),
      );
      await topic.publishMessage({ data: Buffer.from('forgotten') });
      await handled;
      expect(tracing.openSpans().map((s) => s.name)).toEqual([`subscribe ${f.subscriptionId}`]);
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length === 1,
      );
      const process = only(spans, `subscribe ${f.subscriptionId}`);
      expect(process.attributes[ATTR_PROCESS_TIMED_OUT]).toBe(true);
      expect(process.events).toEqual([]);
      expect(parentId(process)).toBe(spanId(only(spans, `create ${f.topicId}`)));
    } finally {
      await f.close();
    }
  });

  it('closing the subscription ends the spans of messages still unsettled, as errors', async () => {
    const f = await createFixture();
    try {
      const topic = traceTopic(f.topic);
      const handled = collect(
        f.subscription,
        1,
        tracePubSubHandler(() => undefined, { subscription: f.subscription }),
      );
      await topic.publishMessage({ data: Buffer.from('in flight at shutdown') });
      await handled;
      expect(tracing.openSpans().map((s) => s.name)).toEqual([`subscribe ${f.subscriptionId}`]);
      // The client nacks what is left and emits 'close': the span ends now, not in 60 s.
      await f.subscription.close();
      const process = only(tracing.spans(), `subscribe ${f.subscriptionId}`);
      expect(process.status.code).toBe(SpanStatusCode.ERROR);
      expect(process.attributes['error.type']).toBe('SubscriptionClosedError');
    } finally {
      await f.close();
    }
  });

  it('a message with a malformed traceparent is processed on a new trace', async () => {
    const f = await createFixture();
    try {
      const received = deferred<string | undefined>();
      f.subscription.on(
        'message',
        tracePubSubHandler(
          (message: Message) => {
            received.resolve(trace.getActiveSpan()?.spanContext().traceId);
            message.ack();
          },
          { subscription: f.subscription },
        ),
      );
      // Published with the raw client: upper-case hex is not a valid traceparent.
      await f.topic.publishMessage({
        data: Buffer.from('x'),
        attributes: { traceparent: '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01' },
      });
      const activeTrace = await received.promise;
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length === 1,
      );
      const process = only(spans, `subscribe ${f.subscriptionId}`);
      expect(process.parentSpanContext).toBeUndefined();
      expect(process.links).toEqual([]);
      expect(traceId(process)).not.toBe('0af7651916cd43dd8448eb211c80319c');
      expect(activeTrace).toBe(traceId(process));
      expect(process.events.map((e) => e.name)).toEqual(['ack']);
    } finally {
      await f.close();
    }
  });

  it("continues the client's own googclient_traceparent when there is no plain traceparent", async () => {
    const f = await createFixture();
    try {
      const received = deferred<void>();
      f.subscription.on(
        'message',
        tracePubSubHandler(
          (message: Message) => {
            message.ack();
            received.resolve();
          },
          { subscription: f.subscription },
        ),
      );
      // What the client's built-in tracing writes (its switch is off in this process).
      await f.topic.publishMessage({
        data: Buffer.from('x'),
        attributes: {
          googclient_traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          googclient_tracestate: 'vendor=value',
        },
      });
      await received.promise;
      const spans = await tracing.waitForSpans(
        (s) => named(s, `subscribe ${f.subscriptionId}`).length === 1,
      );
      const process = only(spans, `subscribe ${f.subscriptionId}`);
      expect(traceId(process)).toBe('0af7651916cd43dd8448eb211c80319c');
      expect(parentId(process)).toBe('b7ad6b7169203331');
      expect(process.parentSpanContext?.traceState?.get('vendor')).toBe('value');
    } finally {
      await f.close();
    }
  });

  it('publishing through tracePubSub(pubsub).topic(), publish() and a flow-controlled publisher is traced too', async () => {
    const f = await createFixture();
    try {
      const topic = tracePubSub(f.pubsub).topic(f.topicId);
      const all = collect(f.subscription, 3, (message: Message) => message.ack());
      const callbackId = deferred<string | null | undefined>();
      topic.publishMessage({ data: Buffer.from('callback') }, (error, id) => {
        expect(error).toBeNull();
        callbackId.resolve(id);
      });
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- the old API must be traced too
      await topic.publish(Buffer.from('deprecated publish'));
      const flow = topic.flowControlled();
      await flow.publish({ data: Buffer.from('flow controlled') });
      await flow.all();
      const messages = await all;
      const spans = await tracing.waitForSpans((s) => named(s, `create ${f.topicId}`).length === 3);
      const creates = named(spans, `create ${f.topicId}`);
      expect(creates.map((s) => s.attributes['messaging.message.id']).sort()).toEqual(
        messages.map((m) => m.id).sort(),
      );
      expect(creates.map((s) => s.attributes['messaging.message.id'])).toContain(
        await callbackId.promise,
      );
      for (const message of messages) {
        const create = creates.find((s) => s.attributes['messaging.message.id'] === message.id);
        expect(message.attributes['traceparent']).toBe(
          `00-${traceId(create as ReadableSpan)}-${spanId(create as ReadableSpan)}-01`,
        );
      }
    } finally {
      await f.close();
    }
  });
});
