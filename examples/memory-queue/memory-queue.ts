import { AsyncResource } from 'node:async_hooks';
import { EventEmitter } from 'node:events';

/** A message as a producer hands it over. */
export interface OutgoingMemoryMessage {
  readonly queue: string;
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** A delivered message. */
export interface MemoryMessage extends OutgoingMemoryMessage {
  readonly id: string;
  readonly attempt: number;
}

type Handler = (message: MemoryMessage) => unknown;

/**
 * A plain in-memory queue with at-least-once delivery: a message stays until it is
 * acked, and a nack delivers it again. It knows nothing of tracing.
 */
export class MemoryQueue extends EventEmitter {
  private nextId = 1;
  private readonly handlers = new Map<string, Handler>();
  private readonly inFlight = new Map<string, MemoryMessage>();
  /**
   * Deliveries run in the context the queue was created in, as a real broker's arrive
   * on its socket: never in the sender's context.
   */
  private readonly schedule = AsyncResource.bind((message: MemoryMessage) => {
    setImmediate(() => this.handle(message));
  });

  send(message: OutgoingMemoryMessage): string {
    const id = String(this.nextId++);
    this.deliver({ ...message, id, attempt: 1 });
    return id;
  }

  consume(queue: string, handler: Handler): void {
    this.handlers.set(queue, handler);
  }

  ack(message: MemoryMessage): void {
    this.inFlight.delete(message.id);
    this.emit('settled', message, 'ack');
  }

  nack(message: MemoryMessage): void {
    this.inFlight.delete(message.id);
    this.emit('settled', message, 'nack');
    this.deliver({ ...message, attempt: message.attempt + 1 });
  }

  private deliver(message: MemoryMessage): void {
    this.inFlight.set(message.id, message);
    this.schedule(message);
  }

  private handle(message: MemoryMessage): void {
    const handler = this.handlers.get(message.queue);
    if (handler === undefined) return;
    try {
      const result = handler(message);
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // A throwing handler leaves the message in flight, as brokers do.
    }
  }
}
