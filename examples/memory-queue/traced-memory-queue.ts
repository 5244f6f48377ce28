import type { ConsumerLifecycle } from '../../src/consumer-lifecycle.js';
import { ConsumerTracer } from '../../src/consumer-tracer.js';
import type { ConsumerOptions } from '../../src/options.js';
import { ProducerTracer } from '../../src/producer-tracer.js';
import { SettleIndex } from '../../src/settle-index.js';
import { memoryTransport } from './memory-transport.js';
import type { MemoryMessage, MemoryQueue, OutgoingMemoryMessage } from './memory-queue.js';

/**
 * An adapter built on the transport description: a producer wrapper and a consumer
 * decorator, each a few lines over the core's tracers. The core runs each message's
 * lifecycle; the adapter says only its broker's facts: the queue ignores what handlers
 * return, and an `ack`/`nack` finds its message's span by message id.
 */
export function traceMemoryQueue(queue: MemoryQueue, options: ConsumerOptions = {}) {
  const producer = new ProducerTracer(memoryTransport, options);
  const consumer = new ConsumerTracer(memoryTransport, options);
  const inFlight = new SettleIndex<string>();
  const lifecycle: ConsumerLifecycle<MemoryMessage> = {
    callerAwaits: false,
    track(message, scope) {
      inFlight.track(message.id, scope);
      return true;
    },
  };
  const handle = <R>(message: MemoryMessage, handler: (message: MemoryMessage) => R): R =>
    consumer.process(message, lifecycle, handler, undefined, undefined);
  return {
    consumer,
    handle,
    send: (message: OutgoingMemoryMessage): string =>
      producer.traceSend(message, (traced) => queue.send(traced)),
    consume: (queueName: string, handler: (message: MemoryMessage) => unknown): void => {
      queue.consume(queueName, (message) => handle(message, handler));
    },
    ack: (message: MemoryMessage): void => {
      inFlight.find(message.id)?.settle('ack');
      queue.ack(message);
    },
    nack: (message: MemoryMessage): void => {
      inFlight.find(message.id)?.settle('nack');
      queue.nack(message);
    },
  };
}
