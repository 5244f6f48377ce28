import type { Message, Options } from 'amqplib';

/** A confirm callback as amqplib calls it: `null` when the broker acked, an Error otherwise. */
export type ConfirmCallback = (error: unknown, ok?: unknown) => void;

/** A consume callback: amqplib passes `null` when the broker cancelled the consumer. */
export type MessageHandler = (this: unknown, message: Message | null) => unknown;

/**
 * The parts of an amqplib channel (promise or callback API, plain or confirm) tracehop
 * calls. Both APIs have these methods with compatible shapes; the callback API's extra
 * trailing callbacks are passed through untouched. Never exported.
 */
export interface RawChannel {
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: Options.Publish,
    callback?: ConfirmCallback,
  ): boolean;
  sendToQueue(
    queue: string,
    content: Buffer,
    options?: Options.Publish,
    callback?: ConfirmCallback,
  ): boolean;
  consume(
    queue: string,
    onMessage: MessageHandler,
    options?: Options.Consume,
    callback?: unknown,
  ): unknown;
  get(queue: string, options?: Options.Get, callback?: unknown): unknown;
  ack(message: Message, allUpTo?: boolean): unknown;
  ackAll(): unknown;
  nack(message: Message, allUpTo?: boolean, requeue?: boolean): unknown;
  nackAll(requeue?: boolean): unknown;
  reject(message: Message, requeue?: boolean): unknown;
  once(event: 'close', listener: () => void): unknown;
  on(event: 'return', listener: (message: Message) => void): unknown;
  readonly waitForConfirms?: unknown;
  readonly connection?: unknown;
}
