import type { Message } from 'amqplib';
import { createConsumer, type AutoSettle } from './amqp-consumer.js';
import { channelState } from './channel-state.js';
import type { MessageHandler } from './internal-types.js';
import { markTracedHandler, rawChannelOf } from './registry.js';
import type { AmqpHandlerOptions } from './types.js';

/**
 * Decorates a `channel.consume` callback, for code that consumes from a channel it does
 * not wrap with `traceChannel`: each message is handled inside a `process` span (CONSUMER),
 * a child of the producer's span (or a new trace linked to it, with `relation: 'link'`),
 * with the handler's own spans, logs and outgoing calls in that trace, sync or async.
 *
 * The span ends when the handler has finished and, where the settle can be seen, the
 * message has been settled, whichever is later. Settling is seen when it goes through a
 * `traceChannel` wrapper of `options.channel`, or done by `autoSettle`; otherwise (no
 * wrapper of the channel exists, said once through `diag`) and with `noAck`, the span
 * covers the handler and everything it awaits. A message whose settle is awaited but never
 * comes has its span ended `settleTimeoutMs` after its handler finished. When the channel
 * closes, unsettled spans get `ChannelClosedError`, and end at once or when their handler
 * finishes.
 *
 * The handler receives the message unchanged, whatever its trace headers hold; a `null`
 * (the broker cancelled the consumer) is passed straight through. amqplib ignores what the
 * callback returns, so a rejected promise resolves instead and its error goes to
 * `onError`; a synchronous throw is rethrown unchanged. With `autoSettle` both become the
 * nack, then `onError`.
 *
 * Passing the decorated handler to a `traceChannel` wrapper's `consume` is fine: it is
 * traced once. It also processes a message pulled with `get`, as a `process` span.
 *
 * Decorate once, when the consumer starts, not per message: each decorated handler has
 * its own tracer, kept for as long as amqplib keeps the callback.
 */
export function traceAmqpHandler<M extends Message | null, R>(
  handler: (message: M) => R,
  options: AmqpHandlerOptions,
): (message: M) => R {
  // Checked once, when the worker starts: without its channel the decorator could neither
  // see settles nor end spans when the channel closes.
  if (
    typeof handler !== 'function' ||
    typeof options?.channel !== 'object' ||
    options.channel === null
  ) {
    throw new TypeError(
      'traceAmqpHandler(handler, { channel, queue }): handler must be a function and channel the amqplib channel it consumes from',
    );
  }
  if (typeof options.queue !== 'string') {
    throw new TypeError(
      'traceAmqpHandler(handler, { channel, queue }): queue must be the name of the queue the handler consumes from',
    );
  }
  const raw = rawChannelOf(options.channel);
  const state = channelState(raw);
  const noAck = options.noAck === true;
  const consumer = createConsumer(
    state,
    options.queue,
    // A handler of some messages is called only with those; the consumer passes them on.
    handler as unknown as MessageHandler,
    options,
    noAck,
    noAck ? undefined : autoSettleOf(options.autoSettle),
  );
  const decorated = function (this: unknown, message: M): R {
    // The consumer returns what the handler returned (or, with autoSettle, resolves to it).
    return consumer.deliver(message, this) as R;
  };
  markTracedHandler(decorated);
  return decorated;
}

function autoSettleOf(option: AmqpHandlerOptions['autoSettle']): AutoSettle | undefined {
  if (option === undefined || option === false) return undefined;
  return { requeue: option === true ? true : option.requeue !== false };
}
