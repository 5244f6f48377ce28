import { EventEmitter } from 'node:events';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ATTR_PUBSUB_ACK_RESPONSE,
  SubscriptionClosedError,
  tracePubSubHandler,
} from '../../../adapters/pubsub/index.js';
import { ATTR_PROCESS_TIMED_OUT } from '../../../src/process-scope.js';
import { setupTestTracing } from '../../../src/testing/index.js';
import { FakeAckError, FakeMessage } from './fakes.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
const subscription = {
  name: 'projects/p/subscriptions/orders-worker',
  topic: 'projects/p/topics/orders',
};

function onlySpan(): ReadableSpan {
  const spans = tracing.spans();
  expect(spans).toHaveLength(1);
  return spans[0] as ReadableSpan;
}

const events = (span: ReadableSpan) => span.events.map((e) => [e.name, e.attributes]);

describe('tracePubSubHandler', () => {
  it('runs the handler in a subscribe span with the message attributes semconv names', () => {
    const message = new FakeMessage('m1', { traceparent: PARENT });
    message.orderingKey = 'customer-9';
    message.deliveryAttempt = 3;
    let active: string | undefined;
    const result = tracePubSubHandler(
      (received: FakeMessage) => {
        active = trace.getActiveSpan()?.spanContext().spanId;
        received.ack();
        return 'done';
      },
      { subscription },
    )(message);
    expect(result).toBe('done');
    const span = onlySpan();
    expect(span.name).toBe('subscribe orders-worker');
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(active).toBe(span.spanContext().spanId);
    expect(span.attributes).toEqual({
      'messaging.system.name': 'gcp.pubsub',
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'subscribe',
      'messaging.destination.subscription.name': 'orders-worker',
      'messaging.destination.name': 'orders',
      'messaging.message.id': 'm1',
      'gcp.pubsub.message.ordering_key': 'customer-9',
      'gcp.pubsub.message.delivery_attempt': 3,
      'gcp.pubsub.message.ack_id': 'ack-m1',
    });
    expect(message.calls).toEqual(['ack']);
  });

  it('relation link starts a new trace that links to the producer', () => {
    tracePubSubHandler((m: FakeMessage) => m.ack(), {
      subscription: 'orders-worker',
      relation: 'link',
    })(new FakeMessage('m1', { traceparent: PARENT }));
    const span = onlySpan();
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.spanContext().traceId).not.toBe('0af7651916cd43dd8448eb211c80319c');
    expect(span.links.map((l) => l.context.spanId)).toEqual(['b7ad6b7169203331']);
  });

  it('the handler gets a proxy: the real method runs on the real message, nothing is added to it', () => {
    const message = new FakeMessage('m1');
    const ownKeys = Reflect.ownKeys(message);
    let seen: FakeMessage | undefined;
    tracePubSubHandler(
      (received: FakeMessage) => {
        seen = received;
        expect(received).not.toBe(message);
        expect(received).toBeInstanceOf(FakeMessage);
        expect(received.id).toBe('m1');
        expect(received.length).toBe(7);
        expect(received.data.toString()).toBe('payload');
        // eslint-disable-next-line @typescript-eslint/unbound-method -- detached settle functions work too
        const { ack } = received;
        ack();
      },
      { subscription },
    )(message);
    expect(seen).toBeDefined();
    expect(message.calls).toEqual(['ack']);
    expect(Reflect.ownKeys(message)).toEqual(ownKeys);
    expect(Object.hasOwn(message, 'ack')).toBe(false);
    expect(FakeMessage.prototype.ack.name).toBe('ack');
  });

  it('ends the span at settle or when the handler finishes, whichever is later', async () => {
    // Settled first, handler finishes later.
    let finish!: () => void;
    const handled = tracePubSubHandler(
      async (m: FakeMessage) => {
        m.ack();
        await new Promise<void>((resolve) => (finish = resolve));
      },
      { subscription },
    )(new FakeMessage('m1'));
    expect(tracing.openSpans()).toHaveLength(1);
    finish();
    await handled;
    expect(tracing.spans()).toHaveLength(1);

    // Handler finishes first, settled later.
    tracing.reset();
    let later: FakeMessage | undefined;
    tracePubSubHandler(
      (m: FakeMessage) => {
        later = m;
      },
      { subscription },
    )(new FakeMessage('m2'));
    expect(tracing.openSpans()).toHaveLength(1);
    later?.nack();
    expect(events(onlySpan())).toEqual([
      ['nack', { 'messaging.operation.type': 'settle', 'messaging.operation.name': 'nack' }],
    ]);
  });

  it('records only the first ack or nack; modAck is an event that does not settle', () => {
    const message = new FakeMessage('m1');
    let view: FakeMessage | undefined;
    tracePubSubHandler(
      (m: FakeMessage) => {
        view = m;
        m.modAck(30);
      },
      { subscription },
    )(message);
    expect(tracing.openSpans()).toHaveLength(1);
    view?.ack();
    view?.nack();
    view?.modAck(10);
    expect(message.calls).toEqual(['modAck 30', 'ack', 'nack', 'modAck 10']);
    expect(events(onlySpan())).toEqual([
      [
        'modack',
        {
          'messaging.operation.type': 'settle',
          'messaging.operation.name': 'modack',
          'gcp.pubsub.message.ack_deadline': 30,
        },
      ],
      ['ack', { 'messaging.operation.type': 'settle', 'messaging.operation.name': 'ack' }],
    ]);
  });

  it('ackWithResponse records the answer when it arrives', async () => {
    const message = new FakeMessage('m1');
    const answer = await tracePubSubHandler((m: FakeMessage) => m.ackWithResponse(), {
      subscription,
    })(message);
    expect(answer).toBe('SUCCESS');
    expect(events(onlySpan())).toEqual([
      [
        'ack',
        {
          [ATTR_PUBSUB_ACK_RESPONSE]: 'SUCCESS',
          'messaging.operation.type': 'settle',
          'messaging.operation.name': 'ack',
        },
      ],
    ]);
  });

  it('a refused ackWithResponse is recorded with its code and rejects with the same error', async () => {
    const message = new FakeMessage('m1');
    const refused = new FakeAckError('PERMISSION_DENIED');
    message.ackResponse = Promise.reject(refused);
    let settled: Promise<string> | undefined;
    tracePubSubHandler(
      (m: FakeMessage) => {
        settled = m.nackWithResponse();
      },
      { subscription },
    )(message);
    await expect(settled).rejects.toBe(refused);
    expect(events(onlySpan())).toEqual([
      [
        'nack',
        {
          [ATTR_PUBSUB_ACK_RESPONSE]: 'PERMISSION_DENIED',
          'messaging.operation.type': 'settle',
          'messaging.operation.name': 'nack',
          'error.type': 'FakeAckError',
        },
      ],
    ]);
  });

  it('modAckWithResponse records an event with the answer and keeps waiting for the settle', async () => {
    const message = new FakeMessage('m1');
    let view: FakeMessage | undefined;
    await tracePubSubHandler(
      async (m: FakeMessage) => {
        view = m;
        await m.modAckWithResponse(60);
      },
      { subscription },
    )(message);
    expect(tracing.openSpans()).toHaveLength(1);
    view?.ack();
    expect(
      onlySpan().events.map((e) => [e.name, e.attributes?.[ATTR_PUBSUB_ACK_RESPONSE]]),
    ).toEqual([
      ['modack', 'SUCCESS'],
      ['ack', undefined],
    ]);
  });

  describe('autoSettle', () => {
    it('acks when the handler resolves', async () => {
      const message = new FakeMessage('m1');
      await tracePubSubHandler(() => Promise.resolve(), { subscription, autoSettle: true })(
        message,
      );
      expect(message.calls).toEqual(['ack']);
      expect(onlySpan().events.map((e) => e.name)).toEqual(['ack']);
    });

    it('nacks when the handler throws, and hands the error to onError: the nack handled it', () => {
      const message = new FakeMessage('m1');
      const failure = new RangeError('bad order');
      const seen: unknown[] = [];
      expect(
        tracePubSubHandler(
          () => {
            throw failure;
          },
          { subscription, autoSettle: true, onError: (error) => seen.push(error) },
        )(message),
      ).toBeUndefined();
      expect(seen).toEqual([failure]);
      expect(message.calls).toEqual(['nack']);
      const span = onlySpan();
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).toBe('RangeError');
      expect(span.events.map((e) => e.name)).toEqual(['exception', 'nack']);
    });

    it('nacks when the handler rejects, and resolves: the error goes to onError', async () => {
      const message = new FakeMessage('m1');
      const failure = new Error('later');
      const seen: unknown[] = [];
      await expect(
        tracePubSubHandler(
          async () => {
            await Promise.resolve();
            throw failure;
          },
          { subscription, autoSettle: true, onError: (error) => seen.push(error) },
        )(message),
      ).resolves.toBeUndefined();
      expect(seen).toEqual([failure]);
      expect(message.calls).toEqual(['nack']);
    });

    it('leaves a message the handler settled itself alone', async () => {
      const message = new FakeMessage('m1');
      await tracePubSubHandler((m: FakeMessage) => Promise.resolve(m.nack()), {
        subscription,
        autoSettle: true,
      })(message);
      expect(message.calls).toEqual(['nack']);
    });
  });

  it('a message never settled has its span ended by the timeout, with nothing settled for it', async () => {
    const message = new FakeMessage('m1');
    tracePubSubHandler(() => undefined, { subscription, settleTimeoutMs: 40 })(message);
    const [span] = await tracing.waitForSpans((s) => s.length === 1);
    expect(span?.attributes[ATTR_PROCESS_TIMED_OUT]).toBe(true);
    expect(message.calls).toEqual([]);
  });

  it.each([
    ['upper-case hex', '00-0AF7651916CD43DD8448EB211C80319C-B7AD6B7169203331-01'],
    ['all-zero trace id', '00-00000000000000000000000000000000-b7ad6b7169203331-01'],
    ['garbage', 'not a traceparent'],
    ['too long', `00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01${'x'.repeat(9000)}`],
  ])('a malformed traceparent (%s) gives a new trace', (_label, traceparent) => {
    const message = new FakeMessage('m1', { traceparent });
    tracePubSubHandler((m: FakeMessage) => m.ack(), { subscription })(message);
    const span = onlySpan();
    expect(span.parentSpanContext).toBeUndefined();
    expect(span.links).toEqual([]);
    expect(message.calls).toEqual(['ack']);
  });

  it("without a plain traceparent, the client's googclient_traceparent is the parent", () => {
    tracePubSubHandler((m: FakeMessage) => m.ack(), { subscription })(
      new FakeMessage('m1', { googclient_traceparent: PARENT }),
    );
    expect(onlySpan().parentSpanContext?.spanId).toBe('b7ad6b7169203331');
  });

  it('the handler is called with the listener this, and its errors pass through without autoSettle', async () => {
    const emitter = { name: 'emitter' };
    const thisArgs: unknown[] = [];
    const failure = new Error('x');
    const handler = tracePubSubHandler(
      function (this: unknown) {
        thisArgs.push(this);
        throw failure;
      },
      { subscription, settleTimeoutMs: 30 },
    );
    const message = new FakeMessage('m1');
    expect(() => handler.call(emitter, message)).toThrow(failure);
    expect(thisArgs).toEqual([emitter]);
    expect(message.calls).toEqual([]);
    // Not settled: the span waits, then the timeout ends it, with the error recorded.
    const [span] = await tracing.waitForSpans((s) => s.length === 1);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes[ATTR_PROCESS_TIMED_OUT]).toBe(true);
  });

  it('when the subscription closes, spans of messages still unsettled end at once, as errors', () => {
    const closing = Object.assign(new EventEmitter(), { name: 'projects/p/subscriptions/s' });
    const handler = tracePubSubHandler(() => undefined, { subscription: closing });
    handler(new FakeMessage('m1'));
    handler(new FakeMessage('m2'));
    expect(tracing.openSpans()).toHaveLength(2);
    closing.emit('close');
    const spans = tracing.spans();
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.attributes['error.type']).toBe('SubscriptionClosedError');
    }
    expect(new SubscriptionClosedError().name).toBe('SubscriptionClosedError');
  });

  it('a message from an unsampled trace propagates its context without recording', () => {
    let active: ReturnType<typeof trace.getActiveSpan>;
    tracePubSubHandler(
      (m: FakeMessage) => {
        active = trace.getActiveSpan();
        m.ack();
      },
      { subscription },
    )(new FakeMessage('m1', { traceparent: PARENT.replace(/-01$/, '-00') }));
    expect(active?.isRecording()).toBe(false);
    expect(active?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(tracing.spans()).toEqual([]);
  });
});
