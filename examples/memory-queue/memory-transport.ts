import { ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_MESSAGE_ID } from '../../src/semconv.js';
import type { MessagingTransport } from '../../src/transport.js';
import type { MemoryMessage, OutgoingMemoryMessage } from './memory-queue.js';

/**
 * The whole description of a broker for tracehop: this in-memory queue's. A Kafka,
 * NATS or BullMQ description has the same members; a consumer-only one (a Lambda event
 * source) is a `ConsumerTransport` with just `readHeader` and `describeIncoming`. How
 * messages are settled is said by the consumer decorator (traced-memory-queue.ts).
 */
export const memoryTransport: MessagingTransport<OutgoingMemoryMessage, MemoryMessage> = {
  system: 'memory',
  // 1. carrier: plain string headers
  readHeader: (message, key) => message.headers[key],
  withHeaders: (message, fields) => ({ ...message, headers: { ...message.headers, ...fields } }),
  // 2. limits: at most 8 headers; what does not fit is dropped, baggage first
  limits: { maxEntries: 8, maxValueBytes: 512 },
  usage: (message) => ({ entries: Object.keys(message.headers).length }),
  // 3. naming and attributes
  describeOutgoing(message, attributes) {
    attributes[ATTR_MESSAGING_DESTINATION_NAME] = message.queue;
    return message.queue;
  },
  describeIncoming(message, attributes) {
    attributes[ATTR_MESSAGING_DESTINATION_NAME] = message.queue;
    return message.queue;
  },
  // what samplers need goes above; per-message details only on spans that record
  describeIncomingDetails(message, attributes) {
    attributes[ATTR_MESSAGING_MESSAGE_ID] = message.id;
  },
};
