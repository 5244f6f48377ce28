/* eslint-disable @typescript-eslint/no-misused-promises --
   amqplib types consume callbacks as returning void; the traced channel awaits the
   promise an async handler returns, which is what these tests are about. */
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Channel, ConfirmChannel, Message, Options } from 'amqplib';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ChannelClosedError,
  traceAmqpHandler,
  traceChannel,
  type AmqpTransport,
} from '../../../adapters/amqp/index.js';
import { captureDiagWarnings, setupTestTracing } from '../../../src/testing/index.js';
import { FakeChannel, FakeConfirmChannel } from './fake-channel.js';

const tracing = setupTestTracing();
afterAll(() => tracing.shutdown());

const diagWarnings = captureDiagWarnings();
const warnings = diagWarnings.messages;

beforeEach(() => {
  tracing.reset();
  diagWarnings.start();
});
afterEach(() => {
  diagWarnings.stop();
  expect(tracing.openSpans()).toEqual([]);
});

const asChannel = (fake: FakeChannel) => fake as unknown as Channel;
const publishedOptions = (fake: FakeChannel, index = 0) =>
  fake.calls.filter((c) => c[0] === 'publish')[index]?.[4] as Options.Publish;

describe('publishing through a traced channel', () => {
  it('returns what the channel returns and sends a copy of the options with trace headers', () => {
    const fake = new FakeChannel();
    const channel = traceChannel(asChannel(fake));
    fake.accept = false;
    const options = { headers: { tenant: 'acme' }, persistent: true };
    expect(channel.publish('orders', 'eu', Buffer.from('x'), options)).toBe(false);
    expect(options).toEqual({ headers: { tenant: 'acme' }, persistent: true });
    const sent = publishedOptions(fake);
    expect(sent).toMatchObject({ persistent: true, headers: { tenant: 'acme' } });
    const send = tracing.spans()[0];
    expect(send?.name).toBe('send orders:eu');
    expect(send?.kind).toBe(SpanKind.PRODUCER);
    expect((sent.headers as Record<string, unknown>)['traceparent']).toBe(
      `00-${send?.spanContext().traceId}-${send?.spanContext().spanId}-01`,
    );
    expect(send?.attributes).toMatchObject({ 'server.address': '10.0.0.7', 'server.port': 5671 });
  });

  it('sendToQueue goes through the default exchange and is named after the queue', () => {
    const fake = new FakeChannel();
    traceChannel(asChannel(fake)).sendToQueue('jobs', Buffer.from('x'));
    expect(fake.calls[0]?.slice(0, 3)).toEqual(['publish', '', 'jobs']);
    expect(tracing.spans()[0]?.name).toBe('send jobs');
  });

  it('rethrows the channel’s error unchanged and records it on the send span', () => {
    const fake = new FakeChannel();
    const channel = traceChannel(asChannel(fake));
    const failure = new TypeError('content is not a buffer');
    fake.failWith = failure;
    let thrown: unknown;
    try {
      channel.publish('orders', 'eu', Buffer.from('x'));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBe(failure);
    const send = tracing.spans()[0];
    expect(send?.status.code).toBe(SpanStatusCode.ERROR);
    expect(send?.attributes['error.type']).toBe('TypeError');
  });

  it('publishes untraced, and says so once, when tracing the message fails', () => {
    const fake = new FakeChannel();
    const broken = (base: AmqpTransport): AmqpTransport => ({
      ...base,
      describeOutgoing: () => {
        throw new Error('broken hook');
      },
    });
    const channel = traceChannel(asChannel(fake), { transport: broken });
    expect(channel.publish('orders', 'eu', Buffer.from('x'))).toBe(true);
    expect(channel.publish('orders', 'eu', Buffer.from('y'))).toBe(true);
    expect(fake.calls).toHaveLength(2);
    expect(publishedOptions(fake)).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('broken hook');
  });

  it('on a confirm channel, ends the send span at the broker’s answer; a nack marks it ERROR', () => {
    const fake = new FakeConfirmChannel();
    const channel = traceChannel(fake as unknown as ConfirmChannel);
    const answers: unknown[][] = [];
    channel.publish('orders', 'eu', Buffer.from('1'), {}, (...args: unknown[]) =>
      answers.push(args),
    );
    channel.sendToQueue('jobs', Buffer.from('2'));
    expect(tracing.openSpans()).toHaveLength(2);
    fake.confirm(null);
    const nacked = new Error('message nacked');
    fake.confirm(nacked);
    expect(answers).toEqual([[null, undefined]]);
    const [first, second] = tracing.spans();
    expect(first?.status.code).toBe(SpanStatusCode.UNSET);
    expect(second?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'message nacked' });
  });

  it('on a confirm channel, a publish that throws ends the span once and never calls back', () => {
    const fake = new FakeConfirmChannel();
    const channel = traceChannel(fake as unknown as ConfirmChannel);
    fake.failWith = new Error('Channel closed');
    let calledBack = false;
    expect(() =>
      channel.publish('x', 'y', Buffer.from('1'), { mandatory: true }, () => (calledBack = true)),
    ).toThrow('Channel closed');
    expect(calledBack).toBe(false);
    expect(tracing.spans()).toHaveLength(1);
    expect(tracing.spans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('forwards everything else to the channel, and wrapping twice returns the same wrapper', () => {
    const fake = new FakeChannel();
    const channel = traceChannel(asChannel(fake));
    let drained = false;
    expect(channel.on('drain', () => (drained = true))).toBe(channel);
    fake.emit('drain');
    expect(drained).toBe(true);
    expect(channel.connection).toBe(fake.connection);
    expect(channel instanceof FakeChannel).toBe(true);
    expect(traceChannel(channel)).toBe(channel);
    expect(Reflect.get(channel, 'publish')).toBe(Reflect.get(channel, 'publish'));
  });

  it('warns once, naming the switch, when the official instrumentation patched amqplib', () => {
    const fake = new FakeChannel();
    // What shimmer leaves on amqplib's Channel.prototype.publish.
    Object.defineProperty(fake, 'publish', {
      value: Object.assign(FakeChannel.prototype.publish.bind(fake), { __wrapped: true }),
      writable: true,
      configurable: true,
    });
    traceChannel(asChannel(fake));
    traceChannel(asChannel(new FakeChannel()));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("'@opentelemetry/instrumentation-amqplib': { enabled: false }");
  });
});

describe('consuming through a traced channel', () => {
  it('rethrows a handler’s synchronous error unchanged and records it', async () => {
    const fake = new FakeChannel();
    const channel = traceChannel(asChannel(fake));
    const failure = new RangeError('bad order');
    await channel.consume('orders', (message) => {
      if (message !== null) channel.ack(message);
      throw failure;
    });
    expect(() => fake.deliver()).toThrow(failure);
    const process = tracing.spans()[0];
    expect(process?.status.code).toBe(SpanStatusCode.ERROR);
    expect(process?.events.map((e) => e.name)).toEqual(['ack', 'exception']);
  });

  it('hands a handler’s rejection to onError instead of leaving amqplib an unhandled rejection', async () => {
    const fake = new FakeChannel();
    const seen: unknown[] = [];
    const channel = traceChannel(asChannel(fake), { onError: (error) => seen.push(error) });
    const failure = new Error('later');
    await channel.consume('orders', () => Promise.reject(failure), { noAck: true });
    const { result } = fake.deliver();
    await expect(result).resolves.toBeUndefined();
    expect(seen).toEqual([failure]);
    expect(tracing.spans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('rethrows a synchronous throw unchanged, as amqplib would see it untraced', async () => {
    const fake = new FakeChannel();
    const seen: unknown[] = [];
    const channel = traceChannel(asChannel(fake), { onError: (error) => seen.push(error) });
    const failure = new Error('now');
    await channel.consume(
      'orders',
      () => {
        throw failure;
      },
      { noAck: true },
    );
    expect(() => fake.deliver()).toThrow(failure);
    expect(seen).toEqual([]);
    expect(tracing.spans()[0]?.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('hands a cancellation (null) to the handler without a span', async () => {
    const fake = new FakeChannel();
    const channel = traceChannel(asChannel(fake));
    const seen: unknown[] = [];
    await channel.consume('orders', (message) => seen.push(message));
    fake.consumers[0]?.(null);
    expect(seen).toEqual([null]);
    expect(tracing.spans()).toEqual([]);
  });

  it('ends open process spans with ChannelClosedError when the channel closes', async () => {
    const fake = new FakeChannel();
    const channel = traceChannel(asChannel(fake));
    await channel.consume('orders', () => undefined);
    fake.deliver();
    fake.deliver();
    expect(tracing.openSpans()).toHaveLength(2);
    fake.emit('close');
    expect(tracing.spans().map((s) => s.attributes['error.type'])).toEqual([
      'ChannelClosedError',
      'ChannelClosedError',
    ]);
    expect(new ChannelClosedError().name).toBe('ChannelClosedError');
  });

  it('returns the wrapper where the callback API returns the channel, so chained settles are recorded', async () => {
    const fake = new FakeChannel();
    // The callback API's ack returns the channel, for chaining.
    Object.defineProperty(fake, 'ack', {
      value: (message: Message) => {
        fake.calls.push(['ack', message.fields.deliveryTag]);
        return fake;
      },
      writable: true,
      configurable: true,
    });
    const channel = traceChannel(asChannel(fake));
    await channel.consume('orders', () => undefined);
    const first = fake.deliver().message;
    const second = fake.deliver().message;
    const chained = channel.ack(first) as unknown as Channel;
    expect(chained).toBe(channel);
    chained.ack(second);
    expect(tracing.spans().map((s) => s.events.map((e) => e.name))).toEqual([['ack'], ['ack']]);
  });

  it('records a failed ack on the event, and rethrows it', async () => {
    const fake = new FakeChannel();
    const channel = traceChannel(asChannel(fake));
    await channel.consume('orders', () => undefined);
    const { message } = fake.deliver();
    fake.failWith = new Error('Channel closed');
    expect(() => channel.ack(message)).toThrow('Channel closed');
    const event = tracing.spans()[0]?.events[0];
    expect(event?.name).toBe('ack');
    expect(event?.attributes?.['error.type']).toBe('Error');
  });

  it('get: a receive span even when the queue is empty', async () => {
    const fake = new FakeChannel();
    const channel = traceChannel(asChannel(fake));
    expect(await channel.get('orders', { noAck: true })).toBe(false);
    expect(fake.calls).toEqual([['get', 'orders', { noAck: true }]]);
    const receive = tracing.spans()[0];
    expect(receive?.name).toBe('receive orders');
    expect(receive?.kind).toBe(SpanKind.CLIENT);
    expect(receive?.attributes['messaging.batch.message_count']).toBe(0);
  });
});

describe('traceAmqpHandler', () => {
  it('says at start-up, not per message, when its channel is missing', () => {
    const options = { queue: 'orders' } as unknown as Parameters<typeof traceAmqpHandler>[1];
    expect(() => traceAmqpHandler(() => undefined, options)).toThrow(TypeError);
    expect(() => traceChannel(null as unknown as Channel)).toThrow(TypeError);
  });

  it('autoSettle acks after success and nacks (requeue by default) after a throw, without rethrowing', () => {
    const fake = new FakeChannel();
    const raw = asChannel(fake);
    const handler = traceAmqpHandler(
      (message: Message | null) => {
        if (message?.fields.deliveryTag === 2) throw new Error('no');
        return 'done';
      },
      { channel: raw, queue: 'orders', autoSettle: true },
    );
    void raw.consume('orders', handler);
    expect(fake.deliver().result).toBe('done');
    expect(fake.deliver().result).toBeUndefined();
    expect(fake.calls.slice(1)).toEqual([
      ['ack', 1, undefined],
      ['nack', 2, false, true],
    ]);
    const [ok, failed] = tracing.spans();
    expect(ok?.events.map((e) => e.name)).toEqual(['ack']);
    expect(failed?.events.map((e) => e.name)).toEqual(['exception', 'nack']);
  });

  it('autoSettle with requeue false drops the failed message', async () => {
    const fake = new FakeChannel();
    const raw = asChannel(fake);
    await raw.consume(
      'orders',
      traceAmqpHandler(() => Promise.reject(new Error('poison')), {
        channel: raw,
        queue: 'orders',
        autoSettle: { requeue: false },
      }),
    );
    await fake.deliver().result;
    expect(fake.calls.at(-1)).toEqual(['nack', 1, false, false]);
  });

  it('without autoSettle, the span waits for a settle through a traced wrapper of the channel', () => {
    const fake = new FakeChannel();
    const raw = asChannel(fake);
    const traced = traceChannel(raw);
    let received: Message | undefined;
    void raw.consume(
      'orders',
      traceAmqpHandler(
        (message: Message | null) => {
          received = message ?? undefined;
        },
        { channel: raw, queue: 'orders' },
      ),
    );
    fake.deliver();
    expect(tracing.openSpans()).toHaveLength(1);
    traced.nack(received as Message, false, false);
    expect(tracing.spans()[0]?.events.map((e) => e.name)).toEqual(['nack']);
  });

  it('runs the handler in the process span’s context, with its own `this`', () => {
    const fake = new FakeChannel();
    const raw = asChannel(fake);
    const seenThis: unknown[] = [];
    let active: string | undefined;
    const handler = traceAmqpHandler(
      function (this: unknown) {
        seenThis.push(this);
        active = trace.getActiveSpan()?.spanContext().spanId;
      },
      { channel: raw, queue: 'orders', noAck: true, autoSettle: true },
    );
    const self = { name: 'consumer' };
    const message = {
      fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'orders' },
      properties: {},
      content: Buffer.from(''),
    } as unknown as Message;
    handler.call(self, message);
    expect(seenThis).toEqual([self]);
    expect(seenThis[0]).toBe(self);
    expect(active).toBe(tracing.spans()[0]?.spanContext().spanId);
    // noAck: nothing to settle, autoSettle ignored.
    expect(fake.calls).toEqual([]);
  });
});
