import type { Attributes } from '@opentelemetry/api';
import { readHeaderIgnoringCase } from '../../src/header-names.js';
import type { CarrierLimits, CarrierUsage } from '../../src/limits.js';
import { TRACEPARENT, TRACESTATE, type TraceFields } from '../../src/propagation.js';
import { shared } from '../../src/registry.js';
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
 * The attribute the client's built-in tracing (`enableOpenTelemetryTracing`) writes, and the
 * only one its subscriber reads. tracehop writes it too: a copy of its own `traceparent`.
 */
export const GOOGCLIENT_TRACEPARENT = 'googclient_traceparent';
/** The client's `tracestate` companion of {@link GOOGCLIENT_TRACEPARENT}. */
export const GOOGCLIENT_TRACESTATE = 'googclient_tracestate';

/**
 * What one Pub/Sub message may carry, measured in UTF-8 bytes: 100 attributes, keys up
 * to 256 bytes, values up to 1024 bytes — and the copies tracehop adds so that a subscriber
 * using the client's built-in tracing continues the trace: `traceparent` again as
 * `googclient_traceparent`, `tracestate` as `googclient_tracestate`. What goes when a message
 * is full: `googclient_tracestate` first, then `baggage` members, then `tracestate` members,
 * and `traceparent` last; `googclient_traceparent` sits in the attribute kept for the client
 * (see {@link PubSubTransport.usage}), so it never takes a W3C field's place.
 * @see https://cloud.google.com/pubsub/quotas#resource_limits
 */
export const PUBSUB_LIMITS: CarrierLimits = Object.freeze({
  maxEntries: 100,
  maxKeyBytes: 256,
  maxValueBytes: 1024,
  copies: Object.freeze({
    [TRACEPARENT]: GOOGCLIENT_TRACEPARENT,
    [TRACESTATE]: GOOGCLIENT_TRACESTATE,
  }),
});

/**
 * What tracehop has seen of the client's built-in tracing in this process. Its switch is
 * process-wide and, once on, stays on (any `new PubSub({ enableOpenTelemetryTracing: true })`
 * turns it on for every client), and it is not exported, so tracehop watches what it does:
 * for each message it traces, the client copies the message's attributes into a new object
 * to add its own `googclient_traceparent` — replacing the `attributes` of the very message
 * tracehop handed it, during the synchronous `publishMessage` call. The next message tracehop
 * prepares looks at the previous one: replaced attributes mean the client's tracing is on.
 * Shared by every copy of tracehop in the process.
 */
interface BuiltInTracingWatch {
  /** The client's built-in tracing was seen at work: it stays on for the process. */
  on: boolean;
  /** The last message tracehop handed the client while `on` was false, until looked at. */
  handed: PubSubOutgoingMessage | undefined;
  /** The attributes object tracehop gave `handed`. */
  attributes: PubSubOutgoingMessage['attributes'];
}

const builtInTracing = shared<BuiltInTracingWatch>('pubsub.builtInTracing', () => ({
  on: false,
  handed: undefined,
  attributes: undefined,
}));

/** Whether the client's built-in tracing is known to be on in this process. */
function builtInTracingOn(): boolean {
  const watch = builtInTracing;
  if (watch.on) return true;
  const handed = watch.handed;
  if (handed === undefined) return false;
  // Let go of the message: only the last one is ever held, and only until the next publish.
  watch.handed = undefined;
  if (handed.attributes !== watch.attributes) watch.on = true;
  watch.attributes = undefined;
  return watch.on;
}

/** The copy whose attribute is kept for the client, whoever ends up writing it. */
const ROOM_FOR_TRACEPARENT: readonly string[] = Object.freeze([GOOGCLIENT_TRACEPARENT]);

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
    // Each name exactly, else in any case (`TraceParent`): see readHeaderIgnoringCase.
    const attributes = message.attributes as Record<string, unknown> | undefined;
    if (key === TRACEPARENT) {
      return (
        readHeaderIgnoringCase(attributes, TRACEPARENT) ??
        readHeaderIgnoringCase(attributes, GOOGCLIENT_TRACEPARENT)
      );
    }
    if (key === TRACESTATE) {
      return readHeaderIgnoringCase(attributes, TRACEPARENT) !== undefined
        ? readHeaderIgnoringCase(attributes, TRACESTATE)
        : readHeaderIgnoringCase(attributes, GOOGCLIENT_TRACESTATE);
    }
    return readHeaderIgnoringCase(attributes, key);
  }

  /**
   * A copy of the message whose attributes are a copy of the caller's plus the trace
   * fields — `traceparent`, `tracestate`, `baggage` and their `googclient_*` copies, as
   * {@link PUBSUB_LIMITS} and {@link PubSubTransport.usage} let them fit. The caller's own
   * `googclient_traceparent`/`googclient_tracestate` are never replaced, nor paired with a
   * copy of tracehop's context. A message with neither data nor attributes is returned as it
   * is, so the client rejects it exactly as it would without tracehop.
   */
  withHeaders(message: PubSubOutgoingMessage, fields: TraceFields): PubSubOutgoingMessage {
    const attributes = message.attributes;
    if (!message.data && message.json === undefined && countKeys(attributes) === 0) return message;
    let merged: Record<string, string> = fields;
    if (attributes) {
      merged = { ...attributes, ...fields };
      if (
        (fields[GOOGCLIENT_TRACEPARENT] !== undefined ||
          fields[GOOGCLIENT_TRACESTATE] !== undefined) &&
        hasClientPair(attributes)
      ) {
        keepCallersPair(merged, attributes);
      }
    }
    const traced: PubSubOutgoingMessage = { ...message, attributes: merged };
    const watch = builtInTracing;
    if (!watch.on) {
      watch.handed = traced;
      watch.attributes = merged;
    }
    return traced;
  }

  /**
   * The caller's attributes, plus the room of what the client's built-in tracing may add
   * after tracehop: it writes its own `googclient_traceparent` (and `googclient_tracestate`
   * when its span has a tracestate) whenever its process-wide switch is on, replacing any
   * there, so that room is kept whether or not tracehop knows the switch is on and the client
   * never pushes a message over 100 attributes. While tracehop has not seen the client's
   * tracing at work, it fills that room with its own `googclient_traceparent` copy (so the
   * room is not lost) and adds `googclient_tracestate` as the first field to go. Once it has
   * seen it, it writes neither — the client would replace them, and it warns on the console
   * for each `googclient_traceparent` it replaces — and keeps room for both. A caller's own
   * `googclient_traceparent` or `googclient_tracestate` means no copies on that message.
   */
  usage(message: PubSubOutgoingMessage): CarrierUsage {
    const attributes = message.attributes;
    const entries = countKeys(attributes);
    const ownTraceparent = attributes ? Object.hasOwn(attributes, GOOGCLIENT_TRACEPARENT) : false;
    if (builtInTracingOn()) {
      const ownTracestate = attributes ? Object.hasOwn(attributes, GOOGCLIENT_TRACESTATE) : false;
      // The client replaces the caller's own in place: room only for what it adds.
      return {
        entries: entries + (ownTraceparent ? 0 : 1) + (ownTracestate ? 0 : 1),
        copies: false,
      };
    }
    if (attributes && hasClientPair(attributes)) {
      return { entries: entries + (ownTraceparent ? 0 : 1), copies: false };
    }
    return { entries: entries + 1, reserved: ROOM_FOR_TRACEPARENT };
  }

  describeOutgoing(message: PubSubOutgoingMessage, attributes: Attributes): string {
    const topic = this.topicId ?? '';
    attributes[ATTR_MESSAGING_DESTINATION_NAME] = topic;
    return topic;
  }

  /** The ordering key: only on spans that record. */
  describeOutgoingDetails(message: PubSubOutgoingMessage, attributes: Attributes): void {
    if (message.orderingKey) attributes[ATTR_GCP_PUBSUB_MESSAGE_ORDERING_KEY] = message.orderingKey;
  }

  /** The received `data`, for a `contextSource` that reads the body. */
  body(message: PubSubMessage): Uint8Array | undefined {
    const data: unknown = message?.data;
    return data instanceof Uint8Array ? data : undefined;
  }

  /** `publishTime`: when Pub/Sub accepted the message (its clock), in epoch milliseconds. */
  sentAt(message: PubSubMessage): number | undefined {
    const published: unknown = message?.publishTime;
    return published instanceof Date ? published.getTime() : undefined;
  }

  describeIncoming(message: PubSubMessage, attributes: Attributes): string {
    const subscription = this.subscriptionId ?? '';
    attributes[ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME] = subscription;
    if (this.topicId !== undefined) attributes[ATTR_MESSAGING_DESTINATION_NAME] = this.topicId;
    return subscription;
  }

  /** Message id, ordering key, delivery attempt, ack id: only on spans that record. */
  describeIncomingDetails(message: PubSubMessage, attributes: Attributes): void {
    attributes[ATTR_MESSAGING_MESSAGE_ID] = message.id;
    if (message.orderingKey) attributes[ATTR_GCP_PUBSUB_MESSAGE_ORDERING_KEY] = message.orderingKey;
    if (message.deliveryAttempt > 0) {
      attributes[ATTR_GCP_PUBSUB_MESSAGE_DELIVERY_ATTEMPT] = message.deliveryAttempt;
    }
    attributes[ATTR_GCP_PUBSUB_MESSAGE_ACK_ID] = message.ackId;
  }
}

/** Own keys of the caller's attributes, counted without allocating an array. */
function countKeys(attributes: PubSubOutgoingMessage['attributes']): number {
  let count = 0;
  if (attributes) for (const key in attributes) if (Object.hasOwn(attributes, key)) count++;
  return count;
}

/** Whether the caller set its own `googclient_traceparent` or `googclient_tracestate`. */
function hasClientPair(attributes: Readonly<Record<string, string>>): boolean {
  return (
    Object.hasOwn(attributes, GOOGCLIENT_TRACEPARENT) ||
    Object.hasOwn(attributes, GOOGCLIENT_TRACESTATE)
  );
}

/** Puts the caller's own `googclient_*` pair back in `merged`, with no copy of tracehop's. */
function keepCallersPair(
  merged: Record<string, string>,
  attributes: Readonly<Record<string, string>>,
): void {
  for (const key of [GOOGCLIENT_TRACEPARENT, GOOGCLIENT_TRACESTATE]) {
    if (Object.hasOwn(attributes, key)) merged[key] = attributes[key] as string;
    else Reflect.deleteProperty(merged, key);
  }
}
