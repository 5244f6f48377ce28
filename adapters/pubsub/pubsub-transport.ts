import type { Attributes } from '@opentelemetry/api';
import type { CarrierLimits, CarrierUsage } from '../../src/limits.js';
import { TRACEPARENT, TRACESTATE, type TraceFields } from '../../src/propagation.js';
import {
  ATTR_GCP_PUBSUB_MESSAGE_ACK_ID,
  ATTR_GCP_PUBSUB_MESSAGE_DELIVERY_ATTEMPT,
  ATTR_GCP_PUBSUB_MESSAGE_ORDERING_KEY,
  ATTR_MESSAGING_DESTINATION_NAME,
  ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME,
  ATTR_MESSAGING_MESSAGE_ID,
  MESSAGING_SYSTEM_NAME_VALUE_GCP_PUBSUB,
} from '../../src/semconv.js';
import type { MessagingTransport } from '../../src/transport.js';
import type { PubSubMessage, PubSubOutgoingMessage } from './types.js';

/**
 * What one Pub/Sub message may carry, measured in UTF-8 bytes: 100 attributes, keys up
 * to 256 bytes, values up to 1024 bytes.
 * @see https://cloud.google.com/pubsub/quotas#resource_limits
 */
export const PUBSUB_LIMITS: CarrierLimits = Object.freeze({
  maxEntries: 100,
  maxKeyBytes: 256,
  maxValueBytes: 1024,
});

/** The attribute the client's built-in tracing (`enableOpenTelemetryTracing`) writes. */
export const GOOGCLIENT_TRACEPARENT = 'googclient_traceparent';
/** The client's `tracestate` companion of {@link GOOGCLIENT_TRACEPARENT}. */
export const GOOGCLIENT_TRACESTATE = 'googclient_tracestate';

const OPERATION_NAMES = Object.freeze({ process: 'subscribe' });

/**
 * The Pub/Sub description for the core's tracers: message attributes as the carrier,
 * Pub/Sub's attribute limits, `gcp.pubsub.*` attributes, and settlement by `ack`/`nack`.
 * One instance per wrapped topic or decorated handler, which fixes the destination names.
 */
export class PubSubTransport implements MessagingTransport<PubSubOutgoingMessage, PubSubMessage> {
  readonly system = MESSAGING_SYSTEM_NAME_VALUE_GCP_PUBSUB;
  readonly limits = PUBSUB_LIMITS;
  /** The messaging semantic conventions call Pub/Sub's process operation `subscribe`. */
  readonly operationNames = OPERATION_NAMES;

  /**
   * @param topicId - the topic's id, for `create` spans and, when known, `process` spans
   * @param subscriptionId - the subscription's id, for `process` spans
   */
  constructor(
    private readonly topicId: string | undefined,
    private readonly subscriptionId: string | undefined,
  ) {}

  /**
   * A plain W3C attribute first; without a plain `traceparent`, the client's own
   * `googclient_traceparent`/`googclient_tracestate` (its built-in tracing on the
   * producer), so both kinds of producer continue into one trace.
   */
  readHeader(message: PubSubMessage, key: string): unknown {
    const attributes = message.attributes as Record<string, string | undefined> | undefined;
    if (attributes === undefined || attributes === null) return undefined;
    if (key === TRACEPARENT) return attributes[TRACEPARENT] ?? attributes[GOOGCLIENT_TRACEPARENT];
    if (key === TRACESTATE) {
      return attributes[TRACEPARENT] !== undefined
        ? attributes[TRACESTATE]
        : attributes[GOOGCLIENT_TRACESTATE];
    }
    return attributes[key];
  }

  /**
   * A copy of the message whose attributes are a copy of the caller's plus the trace
   * fields. A message with neither data nor attributes is returned as it is, so the client
   * rejects it exactly as it would without tracehop.
   */
  withHeaders(message: PubSubOutgoingMessage, fields: TraceFields): PubSubOutgoingMessage {
    const attributes = message.attributes;
    if (!message.data && message.json === undefined && countKeys(attributes) === 0) return message;
    return {
      ...message,
      attributes: attributes ? { ...attributes, ...fields } : fields,
    };
  }

  /**
   * The caller's attributes, plus one kept free for the `googclient_traceparent` the client
   * adds after tracehop when its built-in tracing is on (a process-wide switch tracehop
   * cannot see), so that attribute never pushes a message over 100.
   */
  usage(message: PubSubOutgoingMessage): CarrierUsage {
    return { entries: 1 + countKeys(message.attributes) };
  }

  describeOutgoing(message: PubSubOutgoingMessage, attributes: Attributes): string {
    const topic = this.topicId ?? '';
    attributes[ATTR_MESSAGING_DESTINATION_NAME] = topic;
    if (message.orderingKey) attributes[ATTR_GCP_PUBSUB_MESSAGE_ORDERING_KEY] = message.orderingKey;
    return topic;
  }

  describeIncoming(message: PubSubMessage, attributes: Attributes): string {
    const subscription = this.subscriptionId ?? '';
    attributes[ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME] = subscription;
    if (this.topicId !== undefined) attributes[ATTR_MESSAGING_DESTINATION_NAME] = this.topicId;
    attributes[ATTR_MESSAGING_MESSAGE_ID] = message.id;
    if (message.orderingKey) attributes[ATTR_GCP_PUBSUB_MESSAGE_ORDERING_KEY] = message.orderingKey;
    if (message.deliveryAttempt > 0) {
      attributes[ATTR_GCP_PUBSUB_MESSAGE_DELIVERY_ATTEMPT] = message.deliveryAttempt;
    }
    attributes[ATTR_GCP_PUBSUB_MESSAGE_ACK_ID] = message.ackId;
    return subscription;
  }
}

/** Own keys of the caller's attributes, counted without allocating an array. */
function countKeys(attributes: PubSubOutgoingMessage['attributes']): number {
  let count = 0;
  if (attributes) for (const key in attributes) if (Object.hasOwn(attributes, key)) count++;
  return count;
}
