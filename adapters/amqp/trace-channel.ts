import {
  context as contextApi,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { Message, Options } from 'amqplib';
import { isPromiseLike } from '../../src/errors.js';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import { ProducerTracer, type SendScope } from '../../src/producer-tracer.js';
import { TRACEPARENT } from '../../src/propagation.js';
import { reportOnce } from '../../src/report.js';
import {
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '../../src/semconv.js';
import { createConsumer } from './amqp-consumer.js';
import {
  asString,
  createAmqpTransport,
  describeDelivery,
  type AmqpOutgoingMessage,
} from './amqp-transport.js';
import { channelState, type AmqpChannelState } from './channel-state.js';
import { consumerDestination } from './destination.js';
import type { ConfirmCallback, MessageHandler, RawChannel } from './internal-types.js';
import { PendingConfirm } from './pending-confirm.js';
import { isTracedChannel, isTracedHandler, registerWrapper } from './registry.js';
import type { AmqpChannel, TraceChannelOptions, TracedChannel } from './types.js';

/**
 * Wraps an amqplib channel (promise or callback API, plain or confirm) so that every
 * message it publishes gets a `send` span and carries its context, and every message it
 * consumes gets a `process` span, with `ack`/`nack`/`reject` recorded on it.
 *
 * The wrapper is the channel: every other method, property and event is the channel's
 * own, and the wrapped ones return what amqplib returns (`publish` still returns `false`
 * when the write buffer is full; wait for `drain` as before) and throw what it throws.
 *
 * - `publish`/`sendToQueue`: a `send` span (PRODUCER) whose context is injected into a
 *   copy of `options.headers` (the caller's object is never changed); that copy of the
 *   options also gets `timestamp` (the send time in whole seconds, as AMQP 0-9-1 defines
 *   it) when the caller set none, so consumers get the message's queue time. It ends when the
 *   message is buffered for the socket, or on a confirm channel when the broker confirms
 *   (status ERROR when it nacks, or returns a mandatory message it could not route).
 * - `consume`: each message is handled inside a `process` span (CONSUMER), a child of the
 *   producer's span (or a new trace linked to it, with `relation: 'link'`). The span ends
 *   when the handler has finished and the message has been settled through this wrapper,
 *   whichever is later; with `noAck`, when the handler finishes. A message never settled
 *   has its span ended `settleTimeoutMs` after its handler finished; when the channel
 *   closes, unsettled spans get `ChannelClosedError` and end at once, or when their handler
 *   finishes. amqplib ignores what the callback returns: a rejection goes to `onError`.
 * - `get`: a `receive` span (CLIENT) linked to the message's creation context.
 *
 * @returns the wrapper, typed as the channel passed in (whose `consume` also takes async
 * handlers). Wrapping a wrapper returns it.
 */
export function traceChannel<C extends AmqpChannel>(
  channel: C,
  options: TraceChannelOptions = {},
): TracedChannel<C> {
  if (typeof channel !== 'object' || channel === null) {
    throw new TypeError('traceChannel(channel): channel must be an amqplib channel');
  }
  // A wrapper is typed as the channel it wraps, with consume widened: it is its own TracedChannel.
  if (isTracedChannel(channel)) return channel as TracedChannel<C>;
  // Every amqplib channel type has the methods RawChannel names, with compatible shapes.
  const raw = channel as unknown as RawChannel;
  const traced = new TracingProxyHandler(raw, options);
  registerWrapper(traced.proxy, raw);
  // The proxy forwards everything it does not trace to the channel itself.
  return traced.proxy as unknown as TracedChannel<C>;
}

/** The proxy handler: traces the message methods, forwards the rest untouched. */
class TracingProxyHandler implements ProxyHandler<RawChannel> {
  readonly proxy: RawChannel;
  private readonly state: AmqpChannelState;
  private readonly producer: ProducerTracer<AmqpOutgoingMessage>;
  /** For `get`: the `receive` spans of pulled messages. */
  private readonly receiver: ConsumerTracer<Message>;

  constructor(
    private readonly raw: RawChannel,
    private readonly options: TraceChannelOptions,
  ) {
    this.state = channelState(raw);
    this.state.wrapped = true;
    const base = createAmqpTransport({ server: this.state.server });
    const transport = options.transport === undefined ? base : options.transport(base);
    this.producer = new ProducerTracer(transport, options);
    this.receiver = new ConsumerTracer(transport, options);
    this.proxy = new Proxy(raw, this);
  }

  get(target: RawChannel, property: string | symbol): unknown {
    switch (property) {
      case 'publish':
        return this.publish;
      case 'sendToQueue':
        return this.sendToQueue;
      case 'consume':
        return this.consume;
      case 'get':
        return this.getMessage;
      case 'ack':
        return this.ack;
      case 'nack':
        return this.nack;
      case 'reject':
        return this.reject;
      case 'ackAll':
        return this.ackAll;
      case 'nackAll':
        return this.nackAll;
      default:
        return Reflect.get(target, property);
    }
  }

  // Bound once per wrapper, so that `channel.publish` is one stable function.

  private readonly publish = (
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: Options.Publish,
    callback?: ConfirmCallback,
  ): boolean => this.send(false, exchange, routingKey, content, options, callback);

  private readonly sendToQueue = (
    queue: string,
    content: Buffer,
    options?: Options.Publish,
    callback?: ConfirmCallback,
  ): boolean => this.send(true, '', queue, content, options, callback);

  private readonly consume = (
    queue: string,
    onMessage: MessageHandler,
    options?: Options.Consume,
    callback?: unknown,
  ): unknown => {
    let deliver = onMessage;
    if (typeof onMessage === 'function' && !isTracedHandler(onMessage)) {
      try {
        const noAck = options?.noAck === true;
        const consumer = createConsumer(
          this.state,
          asString(queue),
          onMessage,
          this.options,
          noAck,
          undefined,
        );
        deliver = (message) => consumer.deliver(message, undefined);
      } catch (error) {
        reportOnce('amqp:consume', `consuming without tracing: ${String(error)}`);
      }
    }
    return this.same(this.raw.consume(queue, deliver, options, callback));
  };

  private readonly getMessage = (
    queue: string,
    options?: Options.Get,
    callback?: unknown,
  ): unknown => {
    let span: Span;
    try {
      const attributes: Attributes = { [ATTR_MESSAGING_DESTINATION_NAME]: asString(queue) };
      const server = this.state.server;
      if (server?.address !== undefined) attributes[ATTR_SERVER_ADDRESS] = server.address;
      if (server?.port !== undefined) attributes[ATTR_SERVER_PORT] = server.port;
      span = this.receiver.startReceive(asString(queue), attributes);
    } catch (error) {
      reportOnce('amqp:get', `pulled a message without tracing: ${String(error)}`);
      return this.same(this.raw.get(queue, options, callback));
    }
    if (typeof callback === 'function') {
      // The callback API: amqplib calls back with (error) or (null, message | false).
      const done = callback as (error: unknown, message?: unknown) => void;
      let result: unknown;
      try {
        result = this.raw.get(queue, options, (error: unknown, message?: unknown) => {
          this.received(span, queue, error, message);
          done(error, message);
        });
      } catch (error) {
        this.receiver.endSpan(span, error);
        throw error;
      }
      return this.same(result);
    }
    let pending: unknown;
    try {
      pending = this.raw.get(queue, options);
    } catch (error) {
      this.receiver.endSpan(span, error);
      throw error;
    }
    if (!isPromiseLike(pending)) {
      this.receiver.endSpan(span);
      return pending;
    }
    return pending.then(
      (message: unknown) => {
        this.received(span, queue, null, message);
        return message;
      },
      (error: unknown) => {
        this.receiver.endSpan(span, error);
        throw error;
      },
    );
  };

  private readonly ack = (message: Message, allUpTo?: boolean): unknown =>
    this.same(this.state.ack(message, allUpTo));

  private readonly nack = (message: Message, allUpTo?: boolean, requeue?: boolean): unknown =>
    this.same(this.state.nack(message, allUpTo, requeue));

  private readonly reject = (message: Message, requeue?: boolean): unknown =>
    this.same(this.state.reject(message, requeue));

  private readonly ackAll = (): unknown => this.same(this.state.ackAll());

  private readonly nackAll = (requeue?: boolean): unknown => this.same(this.state.nackAll(requeue));

  // ------------------------------------------------------------------ producer

  private send(
    toQueue: boolean,
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish | undefined,
    callback: ConfirmCallback | undefined,
  ): boolean {
    let scope: SendScope<AmqpOutgoingMessage>;
    try {
      scope = this.producer.startSend({ exchange, routingKey, content, options });
    } catch (error) {
      reportOnce('amqp:send', `published a message without tracing: ${String(error)}`);
      return this.publishRaw(toQueue, exchange, routingKey, content, options, callback, undefined);
    }
    const span = scope.span;
    const traced = scope.message.options;
    const state = this.state;
    // Without confirms the span ends once the message is buffered; a span nothing is recorded
    // of does not wait for the broker's confirm either.
    if (!state.confirms || !this.producer.observes(span)) {
      let accepted: boolean;
      try {
        accepted = this.publishRaw(
          toQueue,
          exchange,
          routingKey,
          content,
          traced,
          callback,
          scope.context,
        );
      } catch (error) {
        this.producer.endSpan(span, error);
        throw error;
      }
      span.end();
      return accepted;
    }
    let returnKey: string | undefined;
    if (options?.mandatory === true) {
      const key: unknown = (traced?.headers as Record<string, unknown> | undefined)?.[TRACEPARENT];
      if (typeof key === 'string') {
        returnKey = key;
        state.watchReturn(key, span);
      }
    }
    const pending = new PendingConfirm(state, span, callback, returnKey);
    try {
      return this.publishRaw(
        toQueue,
        exchange,
        routingKey,
        content,
        traced,
        pending.confirmed,
        scope.context,
      );
    } catch (error) {
      pending.failed(error);
      throw error;
    }
  }

  /**
   * The channel's own publish. When the official instrumentation also patched it, runs it
   * in the `send` span's context so that its span at least joins the same trace.
   */
  private publishRaw(
    toQueue: boolean,
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish | undefined,
    callback: ConfirmCallback | undefined,
    ctx: Context | undefined,
  ): boolean {
    const raw = this.raw;
    if (ctx !== undefined && this.state.officiallyInstrumented) {
      /* eslint-disable @typescript-eslint/unbound-method -- called with `raw` as `this` */
      return toQueue
        ? contextApi.with(ctx, raw.sendToQueue, raw, routingKey, content, options, callback)
        : contextApi.with(ctx, raw.publish, raw, exchange, routingKey, content, options, callback);
      /* eslint-enable @typescript-eslint/unbound-method */
    }
    return toQueue
      ? raw.sendToQueue(routingKey, content, options, callback)
      : raw.publish(exchange, routingKey, content, options, callback);
  }

  // ------------------------------------------------------------------ pull

  /** Ends a `receive` span: named and described after the message, linked to its creation context. */
  private received(span: Span, queue: string, error: unknown, message: unknown): void {
    try {
      if (error !== null && error !== undefined) {
        this.receiver.endSpan(span, error);
        return;
      }
      if (typeof message !== 'object' || message === null) {
        this.receiver.endReceive(span, []);
        return;
      }
      const delivered = message as Message;
      const routingKey = asString(delivered.fields?.routingKey);
      const destination = consumerDestination(
        asString(delivered.fields?.exchange),
        routingKey,
        asString(queue),
      );
      const attributes: Attributes = { [ATTR_MESSAGING_DESTINATION_NAME]: destination };
      describeDelivery(delivered, routingKey, attributes);
      const receiver = this.receiver;
      span.updateName(receiver.spanName(receiver.operationName('receive'), destination));
      span.setAttributes(attributes);
      this.receiver.endReceive(span, [delivered]);
    } catch (failure) {
      reportOnce('amqp:receive', `could not describe a pulled message: ${String(failure)}`);
      span.end();
    }
  }

  /** What the channel returns, with the channel itself (callback API chaining) replaced by the wrapper. */
  private same(result: unknown): unknown {
    return result === this.raw ? this.proxy : result;
  }
}
