import { MessagingTracer } from '../../src/messaging-tracer.js';
import type { ConsumerOptions } from '../../src/options.js';
import { memoryTransport } from './memory-transport.js';
import type { MemoryMessage, MemoryQueue, OutgoingMemoryMessage } from './memory-queue.js';

/**
 * An adapter built on the transport description: a producer wrapper and a consumer
 * decorator, each a few lines over {@link MessagingTracer}.
 */
export function traceMemoryQueue(queue: MemoryQueue, options: ConsumerOptions = {}) {
  const tracer = new MessagingTracer(memoryTransport, options);
  return {
    tracer,
    send: (message: OutgoingMemoryMessage): string =>
      tracer.traceSend(message, (traced) => queue.send(traced)),
    consume: (queueName: string, handler: (message: MemoryMessage) => unknown): void => {
      queue.consume(queueName, (message) => tracer.process(message, () => handler(message)));
    },
    ack: (message: MemoryMessage): void => {
      tracer.settle(message, 'ack');
      queue.ack(message);
    },
    nack: (message: MemoryMessage): void => {
      tracer.settle(message, 'nack');
      queue.nack(message);
    },
  };
}
