import { EventEmitter } from 'node:events';
import type { Message, Options } from 'amqplib';

type Callback = (error: unknown, ok?: unknown) => void;
type OnMessage = (message: Message | null) => unknown;

/** What the fake channel was asked to do. */
export type Call = [method: string, ...args: unknown[]];

/**
 * An amqplib-shaped channel that records calls, for unit tests of the wrapper's own
 * logic (transparency, errors, bookkeeping). Real behaviour is proven against RabbitMQ in
 * test/integration/amqp.
 */
export class FakeChannel extends EventEmitter {
  readonly calls: Call[] = [];
  readonly consumers: OnMessage[] = [];
  readonly confirms: Callback[] = [];
  /** What publish returns (amqplib: false when the write buffer is full). */
  accept = true;
  /** When set, publish/ack throw it. */
  failWith: Error | undefined;
  nextTag = 1;
  readonly connection = { stream: { remoteAddress: '10.0.0.7', remotePort: 5671 } };

  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: Options.Publish,
  ): boolean {
    if (this.failWith) throw this.failWith;
    this.calls.push(['publish', exchange, routingKey, content, options]);
    return this.accept;
  }

  sendToQueue(queue: string, content: Buffer, options?: Options.Publish): boolean {
    return this.publish('', queue, content, options);
  }

  consume(queue: string, onMessage: OnMessage, options?: Options.Consume) {
    this.calls.push(['consume', queue, options]);
    this.consumers.push(onMessage);
    return Promise.resolve({ consumerTag: `ctag-${this.consumers.length}` });
  }

  get(queue: string, options?: Options.Get): Promise<Message | false> {
    this.calls.push(['get', queue, options]);
    return Promise.resolve(false);
  }

  ack(message: Message, allUpTo?: boolean): void {
    if (this.failWith) throw this.failWith;
    this.calls.push(['ack', message.fields.deliveryTag, allUpTo]);
  }

  ackAll(): void {
    this.calls.push(['ackAll']);
  }

  nack(message: Message, allUpTo?: boolean, requeue?: boolean): void {
    this.calls.push(['nack', message.fields.deliveryTag, allUpTo, requeue]);
  }

  nackAll(requeue?: boolean): void {
    this.calls.push(['nackAll', requeue]);
  }

  reject(message: Message, requeue?: boolean): void {
    this.calls.push(['reject', message.fields.deliveryTag, requeue]);
  }

  /** Delivers a message to the first consumer, as amqplib does; returns what it returned. */
  deliver(
    headers?: Record<string, unknown>,
    queue = 'orders',
  ): { message: Message; result: unknown } {
    const message = {
      fields: {
        deliveryTag: this.nextTag++,
        redelivered: false,
        exchange: '',
        routingKey: queue,
        consumerTag: 'ctag-1',
      },
      properties: { headers, messageId: undefined, correlationId: undefined },
      content: Buffer.from('body'),
    } as unknown as Message;
    const consumer = this.consumers[0];
    if (consumer === undefined) throw new Error('no consumer');
    return { message, result: consumer(message) };
  }
}

/** A fake confirm channel: publish takes a callback, called later by `confirm`. */
export class FakeConfirmChannel extends FakeChannel {
  override publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options?: Options.Publish,
    callback?: Callback,
  ): boolean {
    const result = super.publish(exchange, routingKey, content, options);
    this.confirms.push(callback ?? (() => undefined));
    return result;
  }

  override sendToQueue(
    queue: string,
    content: Buffer,
    options?: Options.Publish,
    callback?: Callback,
  ): boolean {
    return this.publish('', queue, content, options, callback);
  }

  waitForConfirms(): Promise<void> {
    return Promise.resolve();
  }

  /** The broker answers the oldest unconfirmed message. */
  confirm(error: Error | null = null): void {
    const callback = this.confirms.shift();
    callback?.(error);
  }
}
