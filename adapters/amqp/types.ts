import type { Channel, ConfirmChannel, ConsumeMessage, Message, Options, Replies } from 'amqplib';
import type {
  Channel as CallbackChannel,
  ConfirmChannel as CallbackConfirmChannel,
} from 'amqplib/callback_api';
import type { ConsumerOptions, HandlerErrorOptions } from '../../src/options.js';
import type { AmqpTransport } from './amqp-transport.js';

/**
 * An amqplib channel tracehop can wrap: from the promise API (`amqplib`) or the callback
 * API (`amqplib/callback_api`), plain or in confirm mode.
 */
export type AmqpChannel = Channel | ConfirmChannel | CallbackChannel | CallbackConfirmChannel;

/**
 * A consume callback that may be async: the traced channel keeps the message's
 * `process` span current across its awaits and ends it when the returned promise
 * settles (and the message is settled).
 */
export type AsyncMessageHandler = (message: ConsumeMessage | null) => Promise<unknown> | void;

/**
 * What `traceChannel` returns: the channel's own type, whose `consume` also takes async
 * handlers (amqplib types the callback as returning `void`, which lint rules such as
 * `no-misused-promises` then flag).
 */
export type TracedChannel<C extends AmqpChannel> = C extends Channel
  ? C & {
      consume(
        queue: string,
        onMessage: AsyncMessageHandler,
        options?: Options.Consume,
      ): Promise<Replies.Consume>;
    }
  : C & {
      consume(
        queue: string,
        onMessage: AsyncMessageHandler,
        options?: Options.Consume,
        callback?: (error: Error, ok: Replies.Consume) => void,
      ): void;
    };

/**
 * Replaces or decorates the RabbitMQ description tracehop builds its spans from, for
 * formats layered on AMQP (CloudEvents' `cloudEvents:` application properties, for one).
 * Called once for the channel's producer side and once per consumer; it receives the
 * built-in description and returns the one to use.
 */
export type AmqpTransportHook = (transport: AmqpTransport) => AmqpTransport;

/** Options of `traceChannel`. */
export interface TraceChannelOptions
  extends ConsumerOptions<Message>, HandlerErrorOptions<Message> {
  /**
   * Decorates the RabbitMQ description (see {@link AmqpTransportHook}).
   * @defaultValue the built-in description, unchanged
   */
  readonly transport?: AmqpTransportHook;
}

/** What `autoSettle` does when the handler throws or rejects. */
export interface AutoSettleOptions {
  /**
   * Whether a failed message is requeued (`nack(message, false, true)`) or dropped —
   * dead-lettered, if the queue has a dead-letter exchange (`nack(message, false, false)`).
   * Requeueing a message that always fails redelivers it forever: set `false` and give
   * the queue a dead-letter exchange for such messages.
   * @defaultValue `true`, amqplib's own default for `nack`
   */
  readonly requeue?: boolean;
}

/** Options of `traceAmqpHandler`. */
export interface AmqpHandlerOptions extends ConsumerOptions<Message>, HandlerErrorOptions<Message> {
  /**
   * The channel the handler's messages come from, plain or wrapped with `traceChannel`.
   * tracehop listens for its `close` (ending in-flight `process` spans with an error),
   * reads the broker's address from it, and records the `ack`/`nack`/`reject` calls made
   * through any `traceChannel` wrapper of it; `autoSettle` settles through it. When no
   * wrapper of it exists and `autoSettle` is off, acks cannot be seen: each span ends
   * with its handler, and that is said once through `diag`.
   */
  readonly channel: AmqpChannel;
  /**
   * The queue the handler consumes from, for the span name and
   * `messaging.destination.name` (`{exchange}:{routing key}:{queue}`): consume callbacks
   * are not told.
   */
  readonly queue: string;
  /**
   * Set when the consumer was started with `{ noAck: true }`: the broker settles on
   * delivery, so each `process` span ends when the handler (and whatever it awaits)
   * finishes, and there is nothing to settle.
   * @defaultValue `false`
   */
  readonly noAck?: boolean;
  /**
   * Settle each message when the handler finishes: `ack` when it returns or its promise
   * resolves, `nack` when it throws or rejects. The error is recorded on the `process`
   * span, then handed to `onError`: the decorated handler returns (or resolves to)
   * `undefined` instead of rethrowing, because the nack is what the error meant — the same
   * as `autoSettle` on Pub/Sub. Without it the handler settles the message itself, a sync
   * throw is rethrown unchanged, and an async handler's rejection goes to `onError`
   * (amqplib ignores the promise: it never becomes an unhandled rejection).
   * Ignored with `noAck`. Do not also ack or nack in the handler: a second settle of one
   * delivery closes the channel.
   * @defaultValue off: the handler settles
   */
  readonly autoSettle?: boolean | AutoSettleOptions;
  /**
   * Decorates the RabbitMQ description (see {@link AmqpTransportHook}).
   * @defaultValue the built-in description, unchanged
   */
  readonly transport?: AmqpTransportHook;
}
