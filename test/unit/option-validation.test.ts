/**
 * The consumer decorators check their required options when they are made — when the
 * worker starts — not when the first message arrives.
 */
import { SpanKind } from '@opentelemetry/api';
import type { Message } from 'amqplib';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { traceAmqpHandler, type AmqpHandlerOptions } from '../../adapters/amqp/index.js';
import {
  tracePubSubHandler,
  type PubSubHandlerOptions,
  type PubSubMessage,
} from '../../adapters/pubsub/index.js';
import { setupTestTracing } from '../../src/testing/index.js';
import { FakeChannel } from './amqp/fake-channel.js';
import { FakeMessage } from './pubsub/fakes.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());
beforeEach(() => tracing.reset());
afterEach(() => {
  expect(tracing.openSpans()).toEqual([]);
});

// Options as untyped JavaScript (or a cast) could pass them: `as unknown as` below.

describe('traceAmqpHandler', () => {
  it.each([
    ['no channel', { queue: 'orders' }],
    ['a null channel', { channel: null, queue: 'orders' }],
    ['a channel that is a string', { channel: 'orders', queue: 'orders' }],
    ['no options', undefined],
  ])('throws a TypeError when decorating with %s, before any message', (_, options) => {
    let called = false;
    const handler = (): void => {
      called = true;
    };
    expect(() => traceAmqpHandler(handler, options as unknown as AmqpHandlerOptions)).toThrow(
      new TypeError(
        'traceAmqpHandler(handler, { channel, queue }): handler must be a function and channel the amqplib channel it consumes from',
      ),
    );
    expect(called).toBe(false);
    expect(tracing.spans()).toEqual([]);
  });

  it('throws a TypeError without the queue, which names every span', () => {
    expect(() =>
      traceAmqpHandler(() => undefined, {
        channel: new FakeChannel(),
      } as unknown as AmqpHandlerOptions),
    ).toThrow(
      new TypeError(
        'traceAmqpHandler(handler, { channel, queue }): queue must be the name of the queue the handler consumes from',
      ),
    );
    expect(tracing.spans()).toEqual([]);
  });

  it('with its channel, the same handler is decorated and traces a delivery', () => {
    const handler = traceAmqpHandler((message: Message | null) => message?.content.toString(), {
      channel: new FakeChannel() as unknown as AmqpHandlerOptions['channel'],
      queue: 'orders',
      noAck: true,
    });
    const delivery = {
      content: Buffer.from('order-1'),
      fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'orders' },
      properties: { headers: {} },
    } as unknown as Message;
    expect(handler(delivery)).toBe('order-1');
    const [process] = tracing.spans();
    expect(process?.name).toBe('process orders');
    expect(process?.kind).toBe(SpanKind.CONSUMER);
  });
});

describe('tracePubSubHandler', () => {
  it.each([
    ['no subscription', {}],
    ['an empty subscription name', { subscription: '' }],
    ['a subscription without a name', { subscription: {} }],
    ['a null subscription', { subscription: null }],
  ])('throws a TypeError when decorating with %s, before any message', (_, options) => {
    let called = false;
    const handler = (): void => {
      called = true;
    };
    expect(() => tracePubSubHandler(handler, options as unknown as PubSubHandlerOptions)).toThrow(
      new TypeError(
        'tracePubSubHandler(handler, { subscription }): subscription must be the Subscription or its name',
      ),
    );
    expect(called).toBe(false);
    expect(tracing.spans()).toEqual([]);
  });

  it('throws a TypeError without options', () => {
    expect(() =>
      tracePubSubHandler(() => undefined, undefined as unknown as PubSubHandlerOptions),
    ).toThrow(TypeError);
    expect(tracing.spans()).toEqual([]);
  });

  it('with its subscription, the same handler is decorated and traces a message', () => {
    const handler = tracePubSubHandler(
      (message: PubSubMessage) => {
        message.ack();
        return message.id;
      },
      { subscription: 'projects/p/subscriptions/orders-sub' },
    );
    const message = new FakeMessage('m-1');
    expect(handler(message)).toBe('m-1');
    expect(message.calls).toEqual(['ack']);
    const [process] = tracing.spans();
    expect(process?.name).toBe('subscribe orders-sub');
    expect(process?.kind).toBe(SpanKind.CONSUMER);
    expect(process?.events.map((e) => e.name)).toEqual(['ack']);
  });
});
